package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/buildinfo"
	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/metrics"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/rest"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/tenants"
	"github.com/dispatchd/dispatchd/internal/transport"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// app is the wired service: storage, broker, sockets, the durable queues and the
// dispatch namespaces. Shutdown order: sockets (by serveHTTP), then close,
// the reverse of the start: housekeeping, driver positions, the relay, the
// queues, the broker, the store.
type app struct {
	store   *store.Store
	broker  *broker.Broker
	queues  *delivery.Queues
	metrics *metrics.Metrics
	sio     *transport.Server
	svc     *dispatch.Service
	// deadlines fires the stored order deadlines this node claims.
	deadlines *deadline.Runner
	verifier  *auth.Verifier
	registry  *tenants.Cache
	// adminToken turns the admin API on (empty: off).
	adminToken string
	log        *zap.Logger
	// restConfig gives REST the sockets' per-user limits and the
	// webhooks.
	restConfig rest.Config

	life *lifecycle
	// build names the running build in /readyz.
	build buildinfo.Info
}

func newApp(ctx context.Context, cfg Config, build buildinfo.Info, log *zap.Logger) (_ *app, err error) {
	a := &app{log: log, life: &lifecycle{log: log}, build: build}
	defer func() {
		if err != nil {
			a.close(log)
		}
	}()
	// Observers are pushed into each component through its Config's
	// Observer field; the metrics that are counts of state (sockets,
	// queues, writes) are read at scrape time through metrics.Watch*.
	a.metrics = metrics.New()
	a.metrics.SetBuild(build)
	sc := cfg.Store
	sc.DataDir, sc.Observer = cfg.DataDir, a.metrics
	if a.store, err = store.Open(ctx, sc, log.Named("store")); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	a.life.onStop(func() {
		if err := a.store.Close(); err != nil {
			log.Error("close store", zap.Error(err))
		}
	})
	bc := cfg.NATS
	bc.DataDir, bc.Retention = cfg.DataDir, cfg.Delivery.Retention
	if a.broker, err = broker.Open(ctx, bc, log.Named("broker")); err != nil {
		return nil, fmt.Errorf("open broker: %w", err)
	}
	a.life.onStop(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownBrokerTimeout)
		a.broker.Close(ctx)
		cancel()
	})
	// The tenant registry: every node's cache, reloaded within a poll of
	// a change on any node; tokens of a tenant with keys must be signed
	// with one of them.
	a.registry = tenants.NewCache(a.store, tenants.DefaultPoll, log.Named("tenants"))
	if err = a.registry.Load(ctx); err != nil {
		return nil, fmt.Errorf("load tenant registry: %w", err)
	}
	a.life.run(ctx, "tenant registry", a.registry.Run)
	a.adminToken = cfg.Admin.Token
	if a.verifier, err = auth.NewTenantVerifier(cfg.Auth, a.registry); err != nil {
		return nil, err
	}
	tc := cfg.Transport
	// The spread must leave the rest of the drain its time.
	tc.ShutdownSpread = min(tc.ShutdownSpread, cfg.HTTP.ShutdownTimeout/3)
	a.sio = transport.NewServer(tc, log.Named("transport"))
	mountMain(a.sio, log)
	locations := dispatch.NewLocations(a.broker, dispatch.ServerEmitter{Srv: a.sio}, log.Named("locations"))
	dc := cfg.Delivery.Config
	dc.Feeds, dc.Observer = dispatch.OwnFeeds(), a.metrics
	relay := delivery.NewRelay(dc, a.store, a.broker, dispatch.Fanout, log.Named("relay"))
	a.queues = delivery.NewQueues(dc, a.broker, a.store, log.Named("delivery"))
	if err = a.queues.Start(ctx); err != nil {
		return nil, err
	}
	a.life.onStop(func() {
		// The sockets are closed: write their last acknowledged cursors.
		ctx, cancel := context.WithTimeout(context.Background(), shutdownBrokerTimeout)
		a.queues.Close(ctx)
		cancel()
	})
	board := dispatch.NewBoard(a.broker, dispatch.ServerEmitter{Srv: a.sio}, log.Named("board"))
	// The fleet: on-duty drivers and their positions, for the board now
	// and the dispatch strategies to come.
	// The hook runs once the fleet runs, after a.svc is set.
	fleet := dispatch.NewFleet(cfg.Tenants.PositionTTL, func(d dispatch.DriverState) {
		board.DriverChanged(d)
		a.svc.DriverChanged(d)
	})
	a.svc = dispatch.NewService(a.store, relay, locations, board, fleet)
	a.svc.EnableAuto(fleet, cfg.Tenants.RespondBy, log.Named("auto"))
	// Offer deadlines: every node runs a runner; the nearest strategy
	// registers its handler on it.
	a.deadlines = deadline.NewRunner(a.store, deadline.Config{Poll: cfg.Tenants.DeadlinePoll, Observer: a.metrics}, log.Named("deadlines"))
	nc := cfg.Tenants
	a.svc.EnableNearest(fleet, dispatch.NearestConfig{Size: nc.OfferSize, RadiusMeters: nc.OfferRadiusMeters,
		TTL: nc.OfferTTL, Rounds: nc.OfferRounds, Observer: a.metrics}, a.deadlines, log.Named("nearest"))
	a.svc.SetDefaultStrategy(nc.Strategy)
	a.svc.SetTenantStrategy(func(tenant string) orders.Strategy {
		st, _ := a.registry.Settings(tenant)
		return st.Strategy
	})
	a.svc.EnableETA(fleet, cfg.Tenants.ETA())
	a.svc.EnableTracking(a.store, fleet, dispatch.TrackingConfig{PublicURL: cfg.HTTP.PublicBase()})
	// REST requests share the sockets' per-user budget.
	a.restConfig = rest.DefaultConfig()
	a.restConfig.EventsPerSecond, a.restConfig.EventBurst = cfg.Tenants.EventsPerSecond, cfg.Tenants.EventBurst
	a.restConfig.Observer = a.metrics
	a.restConfig.APIKeys, a.restConfig.Minter = a.registry, tenants.Minter{Cache: a.registry, Auth: cfg.Auth}
	a.restConfig.AdminToken = cfg.Admin.Token
	a.restConfig.AllowedOrigins = cfg.Transport.AllowedOrigins
	// Webhooks: a second consumer of the log, with a cursor per endpoint.
	wc := cfg.Webhooks
	wc.Retention, wc.Observer = cfg.Delivery.Retention, a.metrics
	hooks := webhooks.New(wc, a.broker, a.store, log.Named("webhooks"))
	a.restConfig.Webhooks = hooks
	a.metrics.WatchWebhooks(hooks)
	hc := cfg.Tenants
	hc.Observer = a.metrics
	// A tenant's own limits, from its registry settings (zero: the
	// server's), for its sockets and its REST users alike.
	tenantLimits := func(tenant string) (float64, int) {
		s, _ := a.registry.Settings(tenant)
		return s.EventsPerSecond, s.EventBurst
	}
	hc.TenantLimits = tenantLimits
	a.restConfig.TenantLimits = tenantLimits
	hc.ExpiringLead = cfg.Auth.ExpiringLead
	handlers := dispatch.NewHandlers(hc, a.svc, a.queues, a.verifier, log.Named("dispatch"))
	// board:stats asks every node over the broker for its sockets' part.
	statsGather := dispatch.NewStatsGather(a.broker, nodeName(cfg.HTTP.Addr), log.Named("board"))
	handlers.GatherStats(statsGather)
	handlers.Mount(a.sio)
	sockets := make(map[string]metrics.Sockets)
	for _, au := range dispatch.Audiences() {
		sockets[au.Metric] = a.sio.Of(au.Namespace)
	}
	a.metrics.WatchTransport(a.sio, sockets)
	a.metrics.WatchQueues(a.queues)
	a.metrics.WatchWrites(a.store)

	a.life.run(ctx, "relay", func(ctx context.Context) error {
		relay.Run(ctx)
		return nil
	})
	a.life.run(ctx, "driver positions", locations.Run)
	a.life.run(ctx, "dispatch board", board.Run)
	a.life.run(ctx, "board stats", statsGather.Run)
	a.life.run(ctx, "fleet", func(ctx context.Context) error { return fleet.Run(ctx, a.broker, a.store, log.Named("fleet")) })
	a.life.run(ctx, "auto", a.svc.RunAuto)
	a.life.run(ctx, "deadlines", a.deadlines.Run)
	a.life.run(ctx, "housekeeping", func(ctx context.Context) error {
		housekeep(ctx, a.store, housekeepingEvery, cfg.Delivery.Retention, log.Named("housekeeping"))
		return nil
	})
	a.life.run(ctx, "webhooks", hooks.Run)
	return a, nil
}

// mountREST serves the REST API under /api/v1 and the readiness probe.
func (a *app) mountREST(e *echo.Echo) {
	rest.Register(e.Group("/api/v1"), a.restConfig, a.svc, a.verifier, a.log.Named("rest"))
	rest.RegisterTracking(e, a.restConfig, a.svc, a.log.Named("rest"))
	rest.RegisterAdmin(e.Group("/api/v1/admin"), a.adminToken, a.store, func(ctx context.Context) {
		if err := a.registry.Load(ctx); err != nil {
			a.log.Warn("reload tenant registry", zap.Error(err))
		}
	}, a.log.Named("admin"))
	e.GET("/metrics", echo.WrapHandler(a.metrics.Handler()))
	e.GET("/readyz", func(c echo.Context) error {
		ctx := c.Request().Context()
		// The build rides along so that a probe or a curl shows which
		// version answers behind a load balancer.
		build := readyBuild{Version: a.build.Version, Revision: a.build.Revision, Time: a.build.Time,
			Modified: a.build.Modified, GoVersion: a.build.GoVersion}
		if err := errors.Join(a.store.Ping(ctx), a.broker.Ready(ctx)); err != nil {
			a.log.Warn("not ready", zap.Error(err))
			return c.JSON(http.StatusServiceUnavailable, readyz{Status: "unavailable", Build: build})
		}
		return c.JSON(http.StatusOK, readyz{Status: "ready", Build: build})
	})
}

// readyz is the /readyz answer: the status (ready or unavailable) and the
// running build.
type readyz struct {
	Status string     `json:"status"`
	Build  readyBuild `json:"build"`
}

type readyBuild struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
}

// close stops what newApp started, in reverse order; it tolerates a
// partly built app.
func (a *app) close(*zap.Logger) {
	a.life.stop()
}

// nodeName names this node in board:stats: its host and listen port,
// which tell apart nodes sharing a host.
func nodeName(addr string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "" && port != "0" {
		return host + ":" + port
	}
	return host
}
