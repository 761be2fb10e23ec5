package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/buildinfo"
	"github.com/dispatchd/dispatchd/internal/console"
	"github.com/dispatchd/dispatchd/internal/datadir"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// socketIOPath is where Socket.IO clients connect by default.
const socketIOPath = "/socket.io/"

// serve runs the dispatch service until ctx ends.
func (r runner) serve(ctx context.Context, args []string) error {
	fs := r.newFlagSet("serve")
	cf := newConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	cf.collect(fs)
	cfg, err := loadConfig(cf, r.getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log, r.stdout)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }() // stdout may not support fsync
	cfg.warnAuth(log)
	cfg.warnOrigins(log)

	// The data dir first: a second process on it must stop before it
	// binds or opens anything.
	lock, err := cfg.lockDataDir()
	if err != nil {
		return err
	}
	defer func() {
		if err := lock.Unlock(); err != nil {
			log.Warn("unlock data dir", zap.Error(err))
		}
	}()
	// Bind before starting anything that would need stopping on failure.
	ln, err := r.listen(ctx, cfg.HTTP.Addr)
	if err != nil {
		return err
	}
	if cfg.Debug.PprofAddr != "" {
		stop, err := r.servePprof(ctx, cfg.Debug.PprofAddr, log)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stop()
	}
	build := buildinfo.Read()
	log.Info("starting", startupFields(cfg, ln.Addr(), build)...)
	app, err := newApp(ctx, cfg, build, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer app.close(log)
	cuts := &readTimeouts{}
	app.metrics.WatchEdge(edgeStats{app.sio, cuts})
	e := newEcho(cfg.HTTP, cfg.Console, app.sio, cuts, log)
	app.mountREST(e)
	return r.serveHTTP(ctx, log, e.Server, ln, cfg.HTTP.ShutdownTimeout, app.sio.Shutdown)
}

// newEcho builds the HTTP front: health, Socket.IO, and later the REST API.
// Its embedded http.Server is the one served.
func newEcho(cfg HTTPConfig, pages console.Config, sio http.Handler, cuts *readTimeouts, log *zap.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Server.Handler = e
	e.Server.ReadHeaderTimeout = cfg.ReadHeaderTimeout
	e.Server.ReadTimeout = cfg.ReadTimeout
	e.Server.IdleTimeout = cfg.IdleTimeout
	// ReadTimeout ends when the request is read: net/http clears the
	// deadline for its background read once the body is done, so a
	// long-polling GET may be held past it (TestLongPollOutlivesReadTimeout),
	// and gorilla clears it on the WebSockets it hijacks. No WriteTimeout:
	// it would cut long polls, held up to ping_interval; the transport
	// bounds its own writes.
	e.Server.ErrorLog = zap.NewStdLog(log.Named("http"))

	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error("handler panic", zap.String("path", c.Path()), zap.Error(err), zap.ByteString("stack", stack))
			return err
		},
	}))
	e.Use(cuts.middleware(log.Named("http")))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		// Polling bodies are bounded by the transport's max payload instead.
		Skipper: func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, socketIOPath) },
		Limit:   strconv.FormatInt(cfg.BodyLimit, 10),
	}))

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.Any(socketIOPath+"*", echo.WrapHandler(sio))
	e.GET("/console", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/console/") })
	// A person opening the server's address lands on the console (302: the
	// root may serve something else one day); browsers ask for the icon
	// at the root whatever the page says.
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console/") })
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/console/favicon.svg") })
	e.GET("/console/*", echo.WrapHandler(http.StripPrefix("/console/", console.Handler(pages))))
	// The customer tracking page (contract: "Proof of delivery and
	// tracking"); its JSON is mounted with the REST API.
	e.Match([]string{http.MethodGet, http.MethodHead}, "/track/:token", echo.WrapHandler(console.TrackPage(pages)))
	return e
}

// lockDataDir locks the data dir when the embedded NATS or SQLite use it;
// nil (which unlocks as a no-op) when both are external.
func (c Config) lockDataDir() (*datadir.Lock, error) {
	if c.NATS.URL != "" && c.Store.DatabaseURL != "" {
		return nil, nil
	}
	return datadir.Acquire(c.DataDir)
}

// edgeStats feeds dispatchd's refusal counters to the metrics.
type edgeStats struct {
	sio  *transport.Server
	cuts *readTimeouts
}

func (e edgeStats) OriginRefused() int64 { return e.sio.OriginRefused() }
func (e edgeStats) ReadTimeouts() int64  { return e.cuts.ReadTimeouts() }

// mountMain sets up the main namespace, which per the contract only answers
// the health ping.
func mountMain(sio *transport.Server, log *zap.Logger) {
	// Once for the namespace, not per socket: idle sockets hold no handler.
	sio.Of("/").On("ping", func(s *transport.Socket, _ *transport.Message, ack transport.Ack) {
		if ack == nil {
			return
		}
		if err := ack("pong"); err != nil {
			log.Debug("pong dropped", zap.String("ns", "/"), zap.String("sid", s.ID()), zap.Error(err))
		}
	})
}
