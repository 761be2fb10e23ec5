package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/origin"

	"github.com/dispatchd/dispatchd/internal/transport/engineio/internal/netpoll"
)

// Server is an Engine.IO v4 endpoint; mount it under any path prefix.
type Server struct {
	cfg      Config
	onConn   func(*Conn)
	log      *zap.Logger
	upgrader websocket.Upgrader
	wheel    *netpoll.Wheel[*Conn]
	poll     *netpoll.Poller[*wsSocket] // nil: every WebSocket keeps a reader goroutine
	readers  *netpoll.Readers
	bufs     *netpoll.Buffers // spare read buffers

	mu       sync.RWMutex
	sessions map[string]*Conn
	count    atomic.Int64 // live sessions plus handshakes in progress
	// evictions counts sessions closed as slow consumers.
	evictions atomic.Int64
	addrs     addrCounts // sessions per client address
	closing   atomic.Bool

	// origins is Config.AllowedOrigins, read once; originRefused counts
	// requests refused for their Origin.
	origins       origin.Policy
	originRefused atomic.Int64

	// opening counts sessions registered whose onConn has not returned:
	// Shutdown closes them only once their handlers are set.
	opening netpoll.Group

	// wg counts the goroutines sessions run (readers, writers, close
	// handlers): http.Server's Shutdown knows nothing of hijacked sockets.
	wg netpoll.Group
}

// NewServer returns a server calling onConn for every new session, before
// any packet of it is processed.
func NewServer(cfg Config, onConn func(*Conn), log *zap.Logger) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:      cfg,
		onConn:   onConn,
		log:      log,
		sessions: make(map[string]*Conn),
		origins:  origin.New(cfg.AllowedOrigins),
	}
	s.wheel = netpoll.NewWheel(cfg.wheelTick(), max(cfg.PingInterval, cfg.PingTimeout)+cfg.PingTimeout,
		func(c *Conn) *int { return &c.wheelSlot }, (*Conn).onTimer)
	s.upgrader = websocket.Upgrader{
		// Reads bypass gorilla (wsSocket), so its read buffer is never
		// used: ask for the smallest (it rounds 1 up to 125 bytes).
		// Pooled write buffers keep idle sockets cheap.
		ReadBufferSize:  1,
		WriteBufferPool: &sync.Pool{},
		// ServeHTTP refused other origins already, with a 403; this
		// keeps gorilla's own check in step with it.
		CheckOrigin: func(r *http.Request) bool { _, ok := s.originAllowed(r, r.Header.Get("Origin")); return ok },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeError(w, http.StatusBadRequest, errBadRequest)
		},
	}
	s.readers = netpoll.NewReaders()
	s.bufs = netpoll.NewBuffers(readBufferSize, readBufsKept)
	p, err := netpoll.New(log, func(sock *wsSocket) *netpoll.Watch { return &sock.watch }, (*wsSocket).dispatch)
	if err != nil {
		log.Warn("no epoll: every websocket keeps a reader goroutine", zap.Error(err))
	}
	s.poll = p
	return s
}

// Evictions returns how many sessions were closed as slow consumers.
func (s *Server) Evictions() int64 { return s.evictions.Load() }

// Count returns the number of live sessions.
func (s *Server) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)
}

// ServeHTTP routes one Engine.IO request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		writeError(w, http.StatusBadRequest, errUnsupportedVersion)
		return
	}
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		writeError(w, http.StatusBadRequest, errUnknownTransport)
		return
	}
	origin := r.Header.Get("Origin")
	grant, ok := s.originAllowed(r, origin)
	if !ok {
		s.refuseOrigin(w, r, origin)
		return
	}
	isWS := websocket.IsWebSocketUpgrade(r)
	if transport == "polling" {
		s.setCORS(w, r, origin, grant)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	} else if !isWS {
		writeError(w, http.StatusBadRequest, errBadRequest)
		return
	}

	sid := q.Get("sid")
	if sid == "" {
		switch {
		case isWS:
			s.serveWebSocket(w, r)
		case r.Method == http.MethodGet:
			s.servePollingHandshake(w, r)
		default:
			writeError(w, http.StatusBadRequest, errBadHandshakeMethod)
		}
		return
	}

	s.mu.RLock()
	c := s.sessions[sid]
	s.mu.RUnlock()
	if c == nil {
		writeError(w, http.StatusBadRequest, errUnknownSID)
		return
	}
	c.mu.Lock()
	upgraded, closed := c.kind != kindPolling, c.phase.closed()
	c.mu.Unlock()
	// A closed session is kept only for the GET that learns of the close
	// (see closeAndUnlock); it takes no more input, as the reference server
	// drops packets once a socket is no longer open.
	if closed && (isWS || r.Method != http.MethodGet) {
		s.refuseClosed(w, r)
		return
	}
	if isWS {
		// A second WebSocket for the session is upgraded and then closed,
		// as the reference server does.
		c.upgradeProbe(w, r)
		return
	}
	if upgraded {
		writeError(w, http.StatusBadRequest, errBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet:
		c.pollGet(w, r)
	case http.MethodPost:
		c.pollPost(w, r)
	default:
		writeError(w, http.StatusBadRequest, errBadRequest)
	}
}

// refuseClosed answers a request on a closed session as one on an unknown
// sid: to the client the session is gone. Logged at debug only, as a
// client may retry a dead sid in a loop.
func (s *Server) refuseClosed(w http.ResponseWriter, r *http.Request) {
	s.log.Debug("request on a closed session refused", zap.String("method", r.Method),
		zap.String("transport", r.URL.Query().Get("transport")))
	writeError(w, http.StatusBadRequest, errUnknownSID)
}

func (s *Server) servePollingHandshake(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	c := s.newConn(r, kindPolling)
	if !s.open(c, []string{"websocket"}) {
		writeError(w, http.StatusServiceUnavailable, errShuttingDown)
		return
	}
	// The open packet is the whole first response; whatever onConn queued
	// waits for the next GET, as in the reference server.
	c.mu.Lock()
	open := c.takeQueueLocked()
	c.mu.Unlock()
	writePoll(w, open[:1])
	if len(open) > 1 {
		c.mu.Lock()
		c.queue = append(open[1:], c.queue...)
		c.mu.Unlock()
	}
}

// admit reserves a session slot, answering 503 when none is left and 429
// when the client's address holds its share already.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if s.closing.Load() {
		writeError(w, http.StatusServiceUnavailable, errShuttingDown)
		return false
	}
	n := s.count.Add(1)
	if s.cfg.MaxConnections > 0 && n > int64(s.cfg.MaxConnections) {
		s.count.Add(-1)
		writeError(w, http.StatusServiceUnavailable, errTooManyConnections)
		return false
	}
	if !s.addrs.take(addrOf(r.RemoteAddr), s.cfg.MaxConnectionsPerIP) {
		s.count.Add(-1)
		writeError(w, http.StatusTooManyRequests, errTooManyFromAddress)
		return false
	}
	return true
}

// giveAddr frees c's slot of its address once; a closed session gives it
// back at once, though its tombstone stays for the client's next poll.
func (s *Server) giveAddr(c *Conn) {
	if c.addrHeld.Swap(false) {
		s.addrs.give(addrOf(c.remoteAddr))
	}
}

// release gives back the slot admit reserved for a session never opened.
func (s *Server) release(remoteAddr string) {
	s.count.Add(-1)
	s.addrs.give(addrOf(remoteAddr))
}

func (s *Server) newConn(r *http.Request, kind transportKind) *Conn {
	// Sessions are opened by GETs only (the polling handshake, gorilla's
	// Upgrade). Copying path and query frees the request line.
	c := &Conn{
		srv:        s,
		id:         newSID(),
		uri:        r.URL.Path + "?" + r.URL.RawQuery,
		pathLen:    len(r.URL.Path),
		host:       r.Host,
		remoteAddr: r.RemoteAddr,
		kind:       kind,
		wheelSlot:  -1,
	}
	c.addrHeld.Store(s.cfg.MaxConnectionsPerIP > 0)
	return c
}

// open registers c, queues the open packet and starts its heartbeat.
func (s *Server) open(c *Conn, upgrades []string) bool {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		s.release(c.remoteAddr)
		return false
	}
	s.sessions[c.id] = c
	s.opening.Add()
	s.mu.Unlock()
	defer s.opening.Done()

	hs := make([]byte, 0, 128)
	hs = append(hs, `{"sid":"`...)
	hs = append(hs, c.id...)
	hs = append(hs, `","upgrades":[`...)
	for i, u := range upgrades {
		if i > 0 {
			hs = append(hs, ',')
		}
		hs = strconv.AppendQuote(hs, u)
	}
	hs = append(hs, `],"pingInterval":`...)
	hs = strconv.AppendInt(hs, s.cfg.PingInterval.Milliseconds(), 10)
	hs = append(hs, `,"pingTimeout":`...)
	hs = strconv.AppendInt(hs, s.cfg.PingTimeout.Milliseconds(), 10)
	hs = append(hs, `,"maxPayload":`...)
	hs = strconv.AppendInt(hs, int64(s.cfg.MaxPayload), 10)
	hs = append(hs, '}')
	c.queue = append(c.queue, &Frame{wire: append([]byte{byte(Open)}, hs...)})
	if c.kind == kindWebSocket {
		c.mu.Lock()
		c.kickLocked()
		c.mu.Unlock()
	}
	if s.onConn != nil {
		s.onConn(c)
	}
	s.wheel.Schedule(c, s.cfg.PingInterval)
	return true
}

// forget drops a finished session from the registry.
func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	if s.sessions[c.id] == c {
		delete(s.sessions, c.id)
		s.count.Add(-1)
		s.giveAddr(c)
	}
	s.mu.Unlock()
}

// Shutdown refuses new sessions, closes every live one with reason
// "server shutting down" (spread over Config.ShutdownSpread; a WebSocket
// close or an Engine.IO close, which stock clients answer by reconnecting)
// and waits for their goroutines or ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.closing.Swap(true) {
		return nil
	}
	s.mu.RLock()
	conns := make([]*Conn, 0, len(s.sessions))
	for _, c := range s.sessions {
		conns = append(conns, c)
	}
	s.mu.RUnlock()
	// No session registers from here on (open checks closing under mu);
	// one that did just before may still be in onConn. Past ctx, the
	// close goes ahead regardless.
	_ = s.opening.Wait(ctx)
	steps := 1
	if s.cfg.ShutdownSpread > 0 {
		steps = max(1, min(20, len(conns)/shutdownBatch))
	}
	per := (len(conns) + steps - 1) / steps
	for i, c := range conns {
		if i > 0 && i%per == 0 {
			// The last step's wait would only delay the exit.
			select {
			case <-ctx.Done():
			case <-time.After(s.cfg.ShutdownSpread / time.Duration(steps)):
			}
		}
		c.close(ReasonShutdown, false)
		s.forget(c) // no tombstones: nobody will poll a stopped server
	}
	// The poller stops first: readers it would start after the wait
	// are not counted; sockets it still watched are closed or closing.
	if s.poll != nil {
		s.poll.Stop()
	}
	err := s.wg.Wait(ctx)
	if rerr := s.readers.Stop(ctx); err == nil {
		err = rerr
	}
	s.wheel.Stop()
	return err
}

// newSID returns 20 characters of URL-safe randomness (120 bits).
func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
