package rest

import (
	"context"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
	originpkg "github.com/dispatchd/dispatchd/internal/origin"
)

const (
	// MaxBodyBytes caps a request body: an order with its maximum of 100
	// items of 200-byte names fits with room to spare. Larger bodies get
	// 413 with the invalid_argument code.
	MaxBodyBytes = 64 << 10

	// requestTimeout bounds one request's storage work.
	requestTimeout = 10 * time.Second
)

// api holds what the handlers share; it is immutable after Register.
type api struct {
	svc      *dispatch.Service
	verifier *auth.Verifier
	log      *zap.Logger
	limits   *userLimits
	obs      Observer
	apiKeys  APIKeys
	minter   TokenMinter
	origins  originpkg.Policy
	// adminToken, when set, is also admitted, for the routes that serve
	// the admin (webhooks with a tenant).
	adminToken adminSecret
	// tenantLimits gives a tenant's own request budget (nil: none).
	tenantLimits func(tenant string) (float64, int)
}

// Register mounts the REST API on g, which the caller has bound to
// /api/v1. Every route needs a bearer JWT (CORS preflights aside); every
// failure, unknown routes under g included, is the contract's JSON error
// object.
func Register(g *echo.Group, cfg Config, svc *dispatch.Service, verifier *auth.Verifier, log *zap.Logger) {
	cfg = cfg.withDefaults()
	a := &api{svc: svc, verifier: verifier, log: log, limits: newUserLimits(cfg), obs: cfg.Observer,
		apiKeys: cfg.APIKeys, minter: cfg.Minter, origins: originpkg.New(cfg.AllowedOrigins), adminToken: adminSecret(cfg.AdminToken),
		tenantLimits: cfg.TenantLimits}
	// renderErrors is outermost so that the other middlewares' errors
	// (401, 413, echo's own 404) leave as JSON too. Authentication comes
	// before anything reads the body; CORS preflights are answered
	// before it, as browsers send them without credentials.
	// Every answer carries a request id (the client's X-Request-ID if it
	// sent a sane one), and failures are logged with it. Each user's
	// budget (limit) is taken once it is known, before any work.
	g.Use(dropOddRequestID, middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}),
		a.renderErrors, a.cors, a.observe, a.authenticate, a.limit)
	// Only these routes read a body; the others ignore theirs.
	limit := middleware.BodyLimit(strconv.Itoa(MaxBodyBytes))
	g.POST("/orders", a.createOrder, limit)
	g.GET("/orders", a.listOrders)
	g.GET("/orders/:id", a.getOrder)
	g.POST("/orders/:id/cancel", a.cancelOrder)
	g.GET("/orders/:id/events", a.orderEvents)
	g.POST("/tokens", a.mintToken, limit)
	// The drivers'.
	g.GET("/pickups", a.pickups)
	g.POST("/orders/:id/claim", a.act(orders.ActionClaim))
	g.POST("/orders/:id/picked-up", a.act(orders.ActionPickUp))
	g.POST("/orders/:id/in-transit", a.act(orders.ActionInTransit))
	g.POST("/orders/:id/delivered", a.delivered, limit)
	g.POST("/orders/:id/failed", a.failed, limit)
	g.POST("/orders/:id/unassign", a.unassign, limit)
	mountWebhooks(g, cfg.Webhooks, limit)
}

// ctx bounds one request's work by requestTimeout and by the client's
// connection.
func ctx(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), requestTimeout)
}

// newRequestID makes a request id: random, sortable by time (a UUIDv7).
func newRequestID() string { return orders.NewID() }

// dropOddRequestID discards a client's X-Request-ID that is long or holds
// anything but letters, digits, '.', '_' and '-': it goes into logs.
func dropOddRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !saneRequestID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func saneRequestID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
