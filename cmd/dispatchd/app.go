package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/hub"
	"github.com/dispatchd/dispatchd/internal/metrics"
	"github.com/dispatchd/dispatchd/internal/rest"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/tenants"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// app is the wired service: storage, broker, sockets, hub and the
// dispatch namespaces. Shutdown order: sockets (by serveHTTP), then close:
// the cluster's relay, the broker, the store.
type app struct {
	store     *store.Store
	broker    *broker.Broker
	deliverer *delivery.Queues
	metrics   *metrics.Metrics
	sio       *transport.Server
	svc       *tenants.Service
	verifier  *auth.Verifier
	log       *zap.Logger
	// restConfig gives REST the sockets' per-user limits.
	restConfig rest.Config

	stopCluster context.CancelFunc
	clusterDone chan struct{}
}

func newApp(ctx context.Context, cfg Config, log *zap.Logger) (_ *app, err error) {
	a := &app{log: log}
	defer func() {
		if err != nil {
			a.close(log)
		}
	}()
	if a.store, err = store.Open(ctx, store.Config{DatabaseURL: cfg.Store.DatabaseURL, DataDir: cfg.DataDir}, log.Named("store")); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if a.broker, err = broker.Open(ctx, broker.Config{
		URL: cfg.NATS.URL, DataDir: cfg.DataDir, Replicas: cfg.NATS.Replicas, Retention: cfg.Delivery.Retention,
		Stream: cfg.NATS.Stream, Prefix: cfg.NATS.Prefix,
	}, log.Named("broker")); err != nil {
		return nil, fmt.Errorf("open broker: %w", err)
	}
	if a.verifier, err = auth.NewVerifier(cfg.Auth.authConfig()); err != nil {
		return nil, err
	}
	a.metrics = metrics.New()
	db := timedStore{s: a.store, m: a.metrics}
	tc := cfg.Transport.transportConfig()
	// The spread must leave the rest of the drain its time.
	tc.ShutdownSpread = min(tc.ShutdownSpread, cfg.HTTP.ShutdownTimeout/3)
	a.sio = transport.NewServer(tc, log.Named("transport"))
	mountMain(a.sio, log)
	h := hub.New(tenants.NewEmitter(a.sio), log.Named("hub"))
	cluster := hub.NewCluster(h, db, a.broker, log.Named("cluster"))
	cluster.SetObserver(a.metrics)
	a.deliverer = delivery.NewQueues(delivery.Config{
		Window:        cfg.Delivery.Window,
		QueueLimit:    cfg.Delivery.QueueLimit,
		FlushInterval: cfg.Delivery.FlushInterval,
		Feeds:         hub.OwnFeeds(),
		Observer:      a.metrics,
	}, a.broker, db, log.Named("delivery"))
	if err = a.deliverer.Start(ctx); err != nil {
		return nil, err
	}
	a.svc = tenants.NewService(db, cluster, log.Named("tenants"))
	a.restConfig = rest.Config{
		EventsPerSecond: cfg.Tenants.EventsPerSecond,
		EventBurst:      cfg.Tenants.EventBurst,
		Observer:        a.metrics,
	}
	tenants.New(tenants.Config{
		EventsPerSecond:     cfg.Tenants.EventsPerSecond,
		EventBurst:          cfg.Tenants.EventBurst,
		Observer:            a.metrics,
		MaxSocketsPerTenant: cfg.Tenants.MaxSocketsPerTenant,
		MaxWatches:          cfg.Tenants.MaxWatches,
		MaxZones:            cfg.Tenants.MaxZones,
	}, a.svc, a.deliverer, a.verifier, log.Named("tenants")).Mount(a.sio)
	a.metrics.WatchTransport(a.sio, map[string]metrics.Sockets{
		hub.NSVendors: a.sio.Of(hub.NSVendors), hub.NSDrivers: a.sio.Of(hub.NSDrivers), hub.NSCustomers: a.sio.Of(hub.NSCustomers),
	})
	a.metrics.WatchQueues(a.deliverer)
	a.metrics.WatchWrites(a.store)

	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopCluster, a.clusterDone = cancel, make(chan struct{})
	go func() {
		defer close(a.clusterDone)
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			housekeep(cctx, a.store, housekeepingEvery, cfg.Delivery.Retention, log.Named("housekeeping"))
		}()
		if err := cluster.Run(cctx); err != nil {
			log.Error("cluster stopped", zap.Error(err))
		}
		<-kept
	}()
	return a, nil
}

// mountREST serves the REST API under /api/v1 and the readiness probe.
func (a *app) mountREST(e *echo.Echo) {
	rest.Register(e.Group("/api/v1"), a.restConfig, a.svc, a.verifier, a.log.Named("rest"))
	e.GET("/metrics", echo.WrapHandler(a.metrics.Handler()))
	e.GET("/readyz", func(c echo.Context) error {
		ctx := c.Request().Context()
		if err := errors.Join(a.store.Ping(ctx), a.broker.Ready(ctx)); err != nil {
			a.log.Warn("not ready", zap.Error(err))
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
}

// close stops what newApp started, in reverse order; it tolerates a
// partly built app.
func (a *app) close(log *zap.Logger) {
	if a.stopCluster != nil {
		a.stopCluster()
		<-a.clusterDone
	}
	if a.deliverer != nil {
		// The sockets are closed: write their last acknowledged cursors.
		ctx, cancel := context.WithTimeout(context.Background(), shutdownBrokerTimeout)
		a.deliverer.Close(ctx)
		cancel()
	}
	if a.broker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownBrokerTimeout)
		a.broker.Close(ctx)
		cancel()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			log.Error("close store", zap.Error(err))
		}
	}
}

func (c AuthConfig) authConfig() auth.Config {
	return auth.Config{Secret: []byte(c.JWTSecret), Issuer: c.Issuer, Audience: c.Audience}
}
