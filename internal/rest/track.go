package rest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TrackPath is the public tracking JSON's route; the page that
// stands on it is /track/<token> (console.TrackPage).
const TrackPath = "/api/v1/track/:token"

// The per-IP budget of the tracking JSON. The page polls every 500 ms
// while visible (2 requests a second; 0.1 hidden), and customers share
// addresses: a household or office behind one NAT, many phones behind a
// carrier's CGNAT. 20 a second holds 10 visible tabs on one address; the
// burst covers a page load with its first polls and a tab coming back.
// Guessing 144-bit tokens stays hopeless at any such rate, and a poll
// that finds nothing new costs one indexed lookup.
const (
	trackPerSecond = 20
	trackBurst     = 40
)

// errNoTracking is the one answer to an unknown, malformed or expired
// token: nothing tells them apart.
var errNoTracking = orders.Errorf(orders.CodeNotFound, "no such tracking link")

// RegisterTracking serves GET /api/v1/track/{token} on e: the order
// behind a tracking link, to anyone holding it (no login), limited per
// client IP. Clients poll it with If-None-Match; an unchanged view is
// 304. It is mounted apart from Register, whose routes all need a token.
func RegisterTracking(e *echo.Echo, cfg Config, svc *dispatch.Service, log *zap.Logger) {
	cfg = cfg.withDefaults()
	lim := trackLimitConfig(cfg)
	clientIP := cfg.ClientIP
	if clientIP == nil {
		clientIP = proxyClientIP
	}
	a := &api{svc: svc, log: log, limits: newUserLimits(lim), obs: cfg.Observer}
	e.GET(TrackPath, a.track, dropOddRequestID, middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}),
		a.renderErrors, a.observe, a.limitIP(clientIP))
}

// trackLimitConfig is cfg with the tracking budget (TrackPerSecond and
// TrackBurst, else the defaults above) as its per-user one, each client
// IP being a user.
func trackLimitConfig(cfg Config) Config {
	cfg = cfg.withDefaults()
	if cfg.TrackPerSecond <= 0 {
		cfg.TrackPerSecond = trackPerSecond
	}
	if cfg.TrackBurst <= 0 {
		cfg.TrackBurst = trackBurst
	}
	cfg.EventsPerSecond, cfg.EventBurst = cfg.TrackPerSecond, cfg.TrackBurst
	return cfg
}

// limitIP refuses a client address's requests past its budget: 429
// rate_limited with Retry-After, before any lookup, so that guessing
// tokens is slow too.
func (a *api) limitIP(clientIP echo.IPExtractor) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ip := clientIP(c.Request())
			ok, wait := a.limits.allow(userKey{role: "track", user: ip}, 0, 0)
			if ok {
				return next(c)
			}
			secs := max(1, int(math.Ceil(wait.Seconds())))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			a.log.Debug("tracking rate limited", zap.String("remote", ip), zap.Int("retry_after_s", secs))
			return orders.Errorf(orders.CodeRateLimited, "too many requests; retry after %d s", secs)
		}
	}
}

// track is GET /api/v1/track/{token}: the public view, with a strong
// ETag named before the view is built (dispatch.TrackedOrder.Tag), so
// If-None-Match naming it gets 304 for the price of the order's lookup.
func (a *api) track(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	tr, err := a.svc.TrackLookup(ctx, c.Param("token"))
	if err != nil {
		return trackError(err)
	}
	etag := `"` + tr.Tag + `"`
	h := c.Response().Header()
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		h.Set(echo.HeaderCacheControl, "private, no-cache")
		h.Set("ETag", etag)
		return c.NoContent(http.StatusNotModified)
	}
	t, err := a.svc.TrackView(ctx, tr)
	if err != nil {
		return trackError(err) // without the view's tag: a client keeping it would never get the body
	}
	h.Set(echo.HeaderCacheControl, "private, no-cache")
	h.Set("ETag", etag)
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode tracking: %w", err)
	}
	return c.JSONBlob(http.StatusOK, body)
}

// trackError makes every not-found read the same.
func trackError(err error) error {
	if code, _ := orders.CodeOf(err); code == orders.CodeNotFound {
		return errNoTracking
	}
	return err
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, RFC 9110 13.1.2).
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}
