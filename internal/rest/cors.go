package rest

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dispatchd/dispatchd/internal/orders"
	originpkg "github.com/dispatchd/dispatchd/internal/origin"
)

// CORS follows transport.allowed_origins, read by internal/origin as the
// Socket.IO transport reads it, so that a front end allowed to open a socket may call REST too:
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
		if a.origins.Check(origin, r.Host) == originpkg.Refused {
			if preflight {
				a.obs.EventIn("rest", "preflight", orders.CodeForbidden)
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
