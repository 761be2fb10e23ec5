package rest

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// CORS follows transport.allowed_origins, with the Socket.IO transport's
// rules, so that a front end allowed to open a socket may call REST too:
// no Origin (not a browser) needs nothing; an empty list allows the
// server's own origin only; "*" allows any; other entries are exact
// origins, case aside. REST authenticates by the Authorization header,
// never by cookies, so no answer allows credentials.

const (
	corsMethods = "GET, POST, DELETE, OPTIONS"
	// corsHeaders are the request headers the API reads.
	corsHeaders = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
	// corsExposed are the response headers a page may read.
	corsExposed = "Location, Retry-After, WWW-Authenticate, X-Request-ID"
	corsMaxAge  = "7200" // seconds; what Chromium caps it at anyway
)

var errOriginRefused = orders.Errorf(orders.CodeForbidden, "this origin may not use the API (transport.allowed_origins)")

// origins applies the allowed-origins list.
type origins struct {
	any    bool
	listed []string
}

func newOrigins(allowed []string) origins {
	var o origins
	for _, a := range allowed {
		if a == "*" {
			o.any = true
		} else {
			o.listed = append(o.listed, a)
		}
	}
	return o
}

// allowed reports whether a page on origin may call the API served as
// host.
func (o origins) allowed(origin, host string) bool {
	if o.any {
		return true
	}
	if len(o.listed) == 0 {
		u, err := url.Parse(origin)
		return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
	}
	for _, l := range o.listed {
		if strings.EqualFold(l, origin) {
			return true
		}
	}
	return false
}

// cors answers preflights, before authentication (browsers send them
// without credentials), and lets allowed pages read the answers of the
// requests that follow. A refused preflight is 403 without CORS headers,
// so the browser sends nothing more; any other request from a refused
// origin is served as it would be, but without CORS headers its page
// cannot read the answer.
func (a *api) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, h := c.Request(), c.Response().Header()
		origin := r.Header.Get(echo.HeaderOrigin)
		preflight := r.Method == http.MethodOptions && r.Header.Get(echo.HeaderAccessControlRequestMethod) != ""
		if origin == "" {
			return next(c)
		}
		// The answer depends on Origin, for caches.
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		if !a.origins.allowed(origin, r.Host) {
			if preflight {
				return errOriginRefused
			}
			return next(c)
		}
		h.Set(echo.HeaderAccessControlAllowOrigin, origin)
		if !preflight {
			h.Set(echo.HeaderAccessControlExposeHeaders, corsExposed)
			return next(c)
		}
		h.Set(echo.HeaderAccessControlAllowMethods, corsMethods)
		h.Set(echo.HeaderAccessControlAllowHeaders, corsHeaders)
		h.Set(echo.HeaderAccessControlMaxAge, corsMaxAge)
		return c.NoContent(http.StatusNoContent)
	}
}
