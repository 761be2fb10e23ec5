package dispatch

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// Handlers serve the namespaces of the audience table.
type Handlers struct {
	cfg      Config
	svc      *Service
	queues   Queues
	verifier *auth.Verifier
	log      *zap.Logger
	sockets  tenantCounts
	eta      geo.ETA
	gather   *StatsGather // nil: board:stats is this node's view
	epoch    time.Time    // sockets' event budgets count time from here (monotonic)
}

// NewHandlers returns the namespaces' handlers over svc, delivering
// durable events through queues.
func NewHandlers(cfg Config, svc *Service, queues Queues, verifier *auth.Verifier, log *zap.Logger) *Handlers {
	cfg = cfg.withDefaults()
	return &Handlers{cfg: cfg, svc: svc, queues: queues, verifier: verifier, log: log, eta: cfg.ETA(), epoch: time.Now()}
}

// Mount registers the audience table's namespaces on srv, each admitting
// tokens of its role only, and on them and the main namespace the answer
// to unknown events.
func (t *Handlers) Mount(srv *transport.Server) {
	for _, a := range Audiences() {
		n := srv.Of(a.Namespace)
		n.Use(t.authenticate(a.Role))
		a.mount(t, n)
		t.mountEvery(n)
		n.OnUnknown(t.unknownEvent(n.Name()))
	}
	main := srv.Of("/")
	main.OnUnknown(t.unknownEvent(main.Name()))
}

// mountEvery registers the events of every dispatch namespace.
func (t *Handlers) mountEvery(n *transport.Namespace) {
	t.on(n, ClientAuthRefresh, t.refresh)
}

// ctx bounds one event's work. Handlers run on the socket's reading
// goroutine, which has no request context of its own.
func (t *Handlers) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), t.cfg.RequestTimeout)
}
