package transport

import (
	"maps"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// Middleware runs at CONNECT, in the order added. A non-nil error refuses
// the connection: a *ConnectError sends its message and data, any other
// error its text. Middleware may call SetData to keep auth claims.
type Middleware func(s *Socket) error

// Namespace is one Socket.IO namespace with its own middleware, handlers
// and rooms.
type Namespace struct {
	name    string
	srv     *Server
	adapter *Adapter // set once, at construction

	mu           sync.RWMutex
	middlewares  []Middleware
	onConnection func(*Socket)
	sockets      map[string]*Socket

	// handlers are shared by every socket (see On); copied on write so
	// that dispatching an event takes no lock.
	handlers atomic.Pointer[map[string]Handler]
	// unknown hears events no handler takes (see OnUnknown); nil
	// ignores them.
	unknown atomic.Pointer[UnknownHandler]
}

// UnknownHandler hears an event that has no handler on its socket or
// namespace. ack is nil when the client asked for none.
type UnknownHandler func(s *Socket, event string, ack Ack)

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{name: name, srv: srv, sockets: make(map[string]*Socket)}
	n.adapter = newAdapter(n.socket)
	return n
}

// Name returns the namespace's name, e.g. "/drivers".
func (n *Namespace) Name() string { return n.name }

// Use appends a middleware.
func (n *Namespace) Use(mw Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, mw)
	n.mu.Unlock()
}

// OnConnection sets the handler run for every accepted socket, right after
// the client was told it is connected. The socket's events are dispatched
// only after it returns, so it may register the socket's own handlers
// (Socket.On) or refuse the socket by disconnecting it.
func (n *Namespace) OnConnection(h func(s *Socket)) {
	n.mu.Lock()
	n.onConnection = h
	n.mu.Unlock()
}

// On sets the handler for event on every socket of the namespace,
// replacing any previous one; a socket's own handler (Socket.On) wins.
// One handler for all sockets costs nothing per socket, where
// registering the same handlers on each socket held a map and closures
// for every idle connection.
func (n *Namespace) On(event string, h Handler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := make(map[string]Handler)
	if old := n.handlers.Load(); old != nil {
		maps.Copy(m, *old)
	}
	m[event] = h
	n.handlers.Store(&m)
}

// OnUnknown sets the fallback for events that have no handler, replacing
// any previous one. Without it such events are ignored, as the reference
// server does, and a client that asked for an ack waits forever; the
// fallback may answer it. The event name is the client's: untrusted and
// unbounded in number.
func (n *Namespace) OnUnknown(h UnknownHandler) {
	n.unknown.Store(&h)
}

func (n *Namespace) handler(event string) Handler {
	if m := n.handlers.Load(); m != nil {
		return (*m)[event]
	}
	return nil
}

// Adapter returns the namespace's room adapter.
func (n *Namespace) Adapter() *Adapter { return n.adapter }

// To selects the members of rooms.
func (n *Namespace) To(rooms ...string) *Broadcast {
	return (&Broadcast{ns: n}).To(rooms...)
}

// Except selects every socket except the members of rooms.
func (n *Namespace) Except(rooms ...string) *Broadcast {
	return (&Broadcast{ns: n}).Except(rooms...)
}

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error {
	return (&Broadcast{ns: n}).Emit(event, args...)
}

// Sockets returns the number of connected sockets.
func (n *Namespace) Sockets() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

func (n *Namespace) socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// connect runs the middleware chain and, if it passes, admits s.
func (n *Namespace) connect(s *Socket) error {
	n.mu.RLock()
	mws := n.middlewares
	n.mu.RUnlock()
	for _, mw := range mws {
		if err := mw(s); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	if !s.client.addSocket(s) {
		// The session ended during the middleware: nobody to tell, but
		// what the middleware took (OnDisconnect) is given back.
		n.srv.log.Debug("connect on a closed session dropped", zap.String("ns", n.name))
		s.close(s.client.conn.CloseReason())
		return nil
	}
	n.mu.Lock()
	n.sockets[s.id] = s
	a, onConn := n.adapter, n.onConnection
	n.mu.Unlock()
	a.AddAll(s, nil)
	if !s.Connected() {
		// Closed since addSocket, perhaps before the lines above put it
		// in the namespace and its room: take it out again.
		n.remove(s)
		return nil
	}
	s.sendConnectAck()
	if onConn != nil {
		onConn(s)
	}
	s.mu.Lock()
	s.auth = nil
	s.mu.Unlock()
	return nil
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	delete(n.sockets, s.id)
	a := n.adapter
	n.mu.Unlock()
	a.DelAll(s)
}
