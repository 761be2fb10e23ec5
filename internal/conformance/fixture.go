package conformance

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/transport"
	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// Settings the official suites hard-code (PING_INTERVAL, PING_TIMEOUT, the
// expected maxPayload, and the connectTimeout of the reference server).
const (
	PingInterval   = 300 * time.Millisecond
	PingTimeout    = 200 * time.Millisecond
	MaxPayload     = 1_000_000
	ConnectTimeout = 1000 * time.Millisecond
)

// Mount points of the two servers, as the suites request them.
const (
	EngineIOPath = "/engine.io/"
	SocketIOPath = "/socket.io/"
)

// EngineIOConfig returns the Engine.IO settings the suites expect.
func EngineIOConfig() engineio.Config {
	return engineio.Config{
		PingInterval: PingInterval,
		PingTimeout:  PingTimeout,
		MaxPayload:   MaxPayload,
	}
}

// Config returns the Socket.IO settings the suites expect.
func Config() transport.Config {
	return transport.Config{
		Config:         EngineIOConfig(),
		ConnectTimeout: ConnectTimeout,
	}
}

// Fixture is the server under test for both suites. It owns the Engine.IO
// echo server and the Socket.IO server; Shutdown stops both.
type Fixture struct {
	mux *http.ServeMux
	eio *engineio.Server
	sio *transport.Server
}

// Option changes one of the suites' settings, for checks that are not
// the suites.
type Option func(*engineio.Config)

// WithHeartbeat replaces the suites' 300 ms / 200 ms heartbeat. The RFC
// 6455 cases are not about heartbeats, and on a loaded machine a client
// busy writing a large message misses a 200 ms pong deadline.
func WithHeartbeat(interval, timeout time.Duration) Option {
	return func(c *engineio.Config) { c.PingInterval, c.PingTimeout = interval, timeout }
}

// New builds the fixture. Serve it at the root of a listener (the suites use
// http://localhost:3000).
func New(log *zap.Logger, opts ...Option) *Fixture {
	log = log.Named("conformance")
	eioCfg, sioCfg := EngineIOConfig(), Config()
	for _, o := range opts {
		o(&eioCfg)
		o(&sioCfg.Config)
	}
	f := &Fixture{
		mux: http.NewServeMux(),
		eio: engineio.NewServer(eioCfg, echo(log), log.Named("engineio")),
		sio: transport.NewServer(sioCfg, log.Named("socketio")),
	}
	// Only these namespaces exist; any other is refused with "Invalid
	// namespace". The reference server installs the message handlers on "/"
	// only; having them on "/custom" too changes no suite case.
	for _, name := range []string{"/", "/custom"} {
		f.sio.Of(name).OnConnection(onConnection(log))
	}
	f.mux.Handle(EngineIOPath, f.eio)
	f.mux.Handle(SocketIOPath, f.sio)
	return f
}

// ServeHTTP routes to the Engine.IO or the Socket.IO server by path.
func (f *Fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mux.ServeHTTP(w, r)
}

// Shutdown closes every session of both servers and waits for their
// goroutines, or until ctx ends.
func (f *Fixture) Shutdown(ctx context.Context) error {
	return errors.Join(f.sio.Shutdown(ctx), f.eio.Shutdown(ctx))
}

// echo sends every Engine.IO message back on the session it came from.
func echo(log *zap.Logger) func(c *engineio.Conn) {
	return func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) {
			// data belongs to the handler, so it can be queued as is.
			if err := c.Send(data, binary); err != nil {
				log.Debug("echo dropped", zap.String("sid", c.ID()), zap.Error(err))
			}
		})
	}
}

// onConnection installs the reference handlers on a new socket of any of the
// fixture's namespaces.
func onConnection(log *zap.Logger) func(s *transport.Socket) {
	return func(s *transport.Socket) {
		s.On("message", func(s *transport.Socket, m *transport.Message, _ transport.Ack) {
			if err := s.Emit("message-back", m); err != nil {
				log.Debug("message-back dropped", zap.String("sid", s.ID()), zap.Error(err))
			}
		})
		s.On("message-with-ack", func(s *transport.Socket, m *transport.Message, ack transport.Ack) {
			if ack == nil {
				return
			}
			if err := ack(m); err != nil {
				log.Debug("ack dropped", zap.String("sid", s.ID()), zap.Error(err))
			}
		})
		// The auth payload is echoed raw; the suites send only test tokens.
		if err := s.Emit("auth", s.Auth()); err != nil {
			log.Debug("auth dropped", zap.String("sid", s.ID()), zap.Error(err))
		}
	}
}
