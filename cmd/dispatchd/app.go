package main

import (
	"context"
	"fmt"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/hub"
	"github.com/dispatchd/dispatchd/internal/rest"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/tenants"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// app is the wired service: storage, sockets, hub and the dispatch
// namespaces. Shutdown order: sockets (by serveHTTP), then close.
type app struct {
	store    *store.Store
	sio      *transport.Server
	svc      *tenants.Service
	verifier *auth.Verifier
	log      *zap.Logger
}

func newApp(ctx context.Context, cfg Config, log *zap.Logger) (*app, error) {
	st, err := store.Open(ctx, store.Config{DatabaseURL: cfg.Store.DatabaseURL, DataDir: cfg.DataDir}, log.Named("store"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	verifier, err := auth.NewVerifier(cfg.Auth.authConfig())
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	sio := transport.NewServer(cfg.Transport.transportConfig(), log.Named("transport"))
	mountMain(sio, log)
	h := hub.New(tenants.NewEmitter(sio), log.Named("hub"))
	svc := tenants.NewService(st, h, log.Named("tenants"))
	tenants.New(tenants.Config{
		EventsPerSecond: cfg.Tenants.EventsPerSecond,
		EventBurst:      cfg.Tenants.EventBurst,
	}, svc, verifier, log.Named("tenants")).Mount(sio)
	return &app{store: st, sio: sio, svc: svc, verifier: verifier, log: log}, nil
}

// mountREST serves the REST API under /api/v1.
func (a *app) mountREST(e *echo.Echo) {
	rest.Register(e.Group("/api/v1"), a.svc, a.verifier, a.log.Named("rest"))
}

func (a *app) close(log *zap.Logger) {
	if err := a.store.Close(); err != nil {
		log.Error("close store", zap.Error(err))
	}
}

func (c AuthConfig) authConfig() auth.Config {
	return auth.Config{Secret: []byte(c.JWTSecret), Issuer: c.Issuer, Audience: c.Audience}
}
