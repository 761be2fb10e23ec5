package engineio

import (
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"
)

// originGrant is what an allowed Origin may do across origins.
type originGrant int

const (
	// grantNone: no Origin header (not a browser); no CORS headers.
	grantNone originGrant = iota
	// grantAny: allowed only by "*"; CORS without credentials, so that a
	// page on any site cannot ride the user's cookies.
	grantAny
	// grantFull: the server's own origin or a listed one; CORS with
	// credentials (socket.io-client's withCredentials).
	grantFull
)

// originAllowed applies Config.AllowedOrigins to a request's Origin, as
// gorilla/websocket and Centrifugo do: no Origin (a non-browser client)
// is always allowed; an empty list allows only the server's own origin
// (the Origin's host is the request's Host, any scheme, any case); "*"
// allows any; other entries are exact origins, case aside.
func (s *Server) originAllowed(r *http.Request, origin string) (originGrant, bool) {
	if origin == "" {
		return grantNone, true
	}
	if len(s.cfg.AllowedOrigins) == 0 {
		return grantFull, sameOrigin(origin, r.Host)
	}
	star := false
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" {
			star = true
		} else if strings.EqualFold(o, origin) {
			return grantFull, true
		}
	}
	return grantAny, star
}

// sameOrigin reports whether origin names host, as gorilla's
// checkSameOrigin does. "null" and other non-URLs have no host.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// refuseOrigin answers 403 as the reference server does for a refused
// request, counts it, and logs it at debug: a hostile page can make any
// number of browsers send these, so the counter is what shows them.
func (s *Server) refuseOrigin(w http.ResponseWriter, r *http.Request, origin string) {
	s.originRefused.Add(1)
	s.log.Debug("origin refused", zap.String("origin", origin), zap.String("host", r.Host),
		zap.String("remote", r.RemoteAddr), zap.String("method", r.Method))
	writeError(w, http.StatusForbidden, errForbidden)
}

// OriginRefused returns how many requests were refused for their Origin.
func (s *Server) OriginRefused() int64 { return s.originRefused.Load() }

// setCORS lets browsers on an allowed origin use long-polling; only
// same-origin and listed origins may send cookies.
func (s *Server) setCORS(w http.ResponseWriter, r *http.Request, origin string, grant originGrant) {
	h := w.Header()
	// The answer depends on Origin whether or not it was sent.
	h.Add("Vary", "Origin")
	if grant == grantNone {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if grant == grantFull {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "86400")
	}
}
