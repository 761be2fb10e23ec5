package transport

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
	"go.uber.org/zap"
)

// Server is a Socket.IO v4 server; it is an http.Handler to mount at
// /socket.io/.
type Server struct {
	cfg Config
	log *zap.Logger
	eio *engineio.Server

	mu         sync.RWMutex
	namespaces map[string]*Namespace
}

// NewServer returns a server with no namespaces; add them with Of.
func NewServer(cfg Config, log *zap.Logger) *Server {
	s := &Server{cfg: cfg.withDefaults(), log: log, namespaces: make(map[string]*Namespace)}
	s.eio = engineio.NewServer(s.cfg.Config, s.onConn, log)
	return s
}

// ServeHTTP serves the Engine.IO endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.eio.ServeHTTP(w, r) }

// Of returns the namespace called name, creating it on first use. Clients
// asking for a namespace never created are refused. A name must start with
// "/" and hold no comma (it could not be framed); anything else is a
// programming error and panics.
func (s *Server) Of(name string) *Namespace {
	if name == "" {
		name = "/"
	}
	if name[0] != '/' || strings.ContainsRune(name, ',') {
		panic(fmt.Sprintf("transport: invalid namespace name %q", name))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.namespaces[name]
	if n == nil {
		n = newNamespace(s, name)
		s.namespaces[name] = n
	}
	return n
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namespaces[name]
}

// Sessions returns the number of live Engine.IO sessions.
func (s *Server) Sessions() int { return s.eio.Count() }

// Evictions returns how many sessions were closed as slow consumers.
func (s *Server) Evictions() int64 { return s.eio.Evictions() }

// Shutdown closes every session ("server shutting down") and waits for
// their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.eio.Shutdown(ctx) }
