package engineio

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/origin"
)

// originAllowed applies Config.AllowedOrigins to a request's Origin
// (internal/origin: the same reading as the REST API's CORS).
func (s *Server) originAllowed(r *http.Request, from string) (origin.Grant, bool) {
	g := s.origins.Check(from, r.Host)
	return g, g != origin.Refused
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
func (s *Server) setCORS(w http.ResponseWriter, r *http.Request, from string, grant origin.Grant) {
	h := w.Header()
	// The answer depends on Origin whether or not it was sent.
	h.Add("Vary", "Origin")
	if grant == origin.None {
		return
	}
	h.Set("Access-Control-Allow-Origin", from)
	if grant == origin.Full {
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
