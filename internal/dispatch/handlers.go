package dispatch

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// Config tunes the namespaces. Zero fields take defaults.
type Config struct {
	EventsPerSecond float64       // per socket, default 20
	EventBurst      int           // default 40
	RequestTimeout  time.Duration // one event's storage work, default 10s
	Observer        Observer      // hears client events (default: nobody)
	// MaxSocketsPerTenant bounds one tenant's sockets on this node, all
	// namespaces together (0: unlimited); past it CONNECT is refused
	// with rate_limited.
	MaxSocketsPerTenant int
	// MaxWatches bounds a customer's open order:watch subscriptions
	// (default 200); past it order:watch answers conflict.
	MaxWatches int
	// MaxZones bounds a driver's open pickups:subscribe zones, "every
	// zone" counting as one (default 32): each is stored and checked for
	// every pickup of the tenant. Past it pickups:subscribe answers
	// conflict.
	MaxZones int
}

// Observer hears what clients ask, for metrics. It must be cheap.
type Observer interface {
	// EventIn: a client event arrived on ns; code is the reply's error
	// code, or "" for a success.
	EventIn(ns, event string, code orders.Code)
}

type nopObserver struct{}

func (nopObserver) EventIn(string, string, orders.Code) {}

func (c Config) withDefaults() Config {
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.EventsPerSecond <= 0 {
		c.EventsPerSecond = 20
	}
	if c.EventBurst <= 0 {
		c.EventBurst = 40
	}
	if c.MaxWatches <= 0 {
		c.MaxWatches = 200
	}
	if c.MaxZones <= 0 {
		c.MaxZones = 32
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	return c
}

// Handlers serve the namespaces of the audience table.
type Handlers struct {
	cfg      Config
	svc      *Service
	queues   Queues
	verifier *auth.Verifier
	log      *zap.Logger
	sockets  tenantCounts
}

// NewHandlers returns the namespaces' handlers over svc, delivering
// durable events through queues.
func NewHandlers(cfg Config, svc *Service, queues Queues, verifier *auth.Verifier, log *zap.Logger) *Handlers {
	return &Handlers{cfg: cfg.withDefaults(), svc: svc, queues: queues, verifier: verifier, log: log}
}

// Mount registers the audience table's namespaces on srv, each admitting
// tokens of its role only, and on them and the main namespace the answer
// to unknown events.
func (t *Handlers) Mount(srv *transport.Server) {
	for _, a := range Audiences() {
		n := srv.Of(a.Namespace)
		n.Use(t.authenticate(a.Role))
		a.mount(t, n)
		n.OnUnknown(t.unknownEvent(n.Name()))
	}
	main := srv.Of("/")
	main.OnUnknown(t.unknownEvent(main.Name()))
}

// ctx bounds one event's work. Handlers run on the socket's reading
// goroutine, which has no request context of its own.
func (t *Handlers) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), t.cfg.RequestTimeout)
}
