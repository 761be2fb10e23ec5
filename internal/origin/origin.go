// Package origin applies transport.allowed_origins to a browser's Origin
// header, one reading for the Socket.IO transport (WebSocket upgrades and
// long-polling CORS) and the REST API's CORS, so that a front end allowed
// to open a socket may call REST too and nothing else may.
//
// The rules are gorilla/websocket's and Centrifugo's: no Origin (not a
// browser) is always allowed; an empty list allows only the server's own
// origin (the Origin's host is the request's Host, any scheme, case
// aside); "*" allows any origin; other entries are exact origins, case
// aside. It imports nothing from internal/.
package origin

import (
	"net/url"
	"strings"
)

// Grant is what a request's Origin may do across origins.
type Grant int

const (
	// Refused: a browser page on an origin the list does not allow.
	Refused Grant = iota
	// None: no Origin header (not a browser); no CORS headers needed.
	None
	// Any: allowed only by "*"; CORS without credentials, so that a page
	// on any site cannot ride the user's cookies.
	Any
	// Full: the server's own origin or a listed one; CORS with
	// credentials where the caller offers them.
	Full
)

// Policy is an allowed-origins list, read once.
type Policy struct {
	star   bool
	listed []string
}

// New reads an allowed-origins list (transport.allowed_origins).
func New(allowed []string) Policy {
	var p Policy
	for _, a := range allowed {
		if a == "*" {
			p.star = true
		} else {
			p.listed = append(p.listed, a)
		}
	}
	return p
}

// Check grades origin (the request's Origin header, maybe empty) for a
// request addressed to host (the request's Host).
func (p Policy) Check(origin, host string) Grant {
	if origin == "" {
		return None
	}
	if !p.star && len(p.listed) == 0 {
		if sameOrigin(origin, host) {
			return Full
		}
		return Refused
	}
	for _, l := range p.listed {
		if strings.EqualFold(l, origin) {
			return Full
		}
	}
	if p.star {
		return Any
	}
	return Refused
}

// sameOrigin reports whether origin names host, as gorilla's
// checkSameOrigin does. "null" and other non-URLs have no host.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}
