package transport

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// Handler handles one event. ack is nil when the client asked for none; it
// may be called once, from any goroutine.
type Handler func(s *Socket, m *Message, ack Ack)

// Ack answers an event; see Emit for how args are encoded.
type Ack func(args ...any) error

// AckCallback receives a client's acknowledgement, or ErrAckTimeout /
// ErrDisconnected. It runs on the socket's reading goroutine or a timer's.
type AckCallback func(m *Message, err error)

// Socket is one client's connection to one namespace.
type Socket struct {
	id     string
	ns     *Namespace
	client *client

	mu           sync.Mutex
	auth         json.RawMessage // until OnConnection has returned
	handlers     map[string]Handler
	onDisconnect []func(reason string)
	acks         map[uint64]*pendingAck
	nextAck      uint64
	connected    bool
	data         any
}

type pendingAck struct {
	cb    AckCallback
	timer *time.Timer // nil: no timeout
}

func (p *pendingAck) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

// ID returns the socket's public Socket.IO id (not the Engine.IO sid).
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Conn returns the underlying Engine.IO session.
func (s *Socket) Conn() *engineio.Conn { return s.client.conn }

// Auth returns the CONNECT payload, `{}` when the client sent none, to
// the middleware and OnConnection. Then it is dropped (Auth returns nil):
// an idle socket keeps neither the client's credentials nor their bytes.
func (s *Socket) Auth() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auth
}

// SetData attaches application data (e.g. auth claims) to the socket.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Data returns what SetData stored.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// On sets the handler for event on this socket, replacing any previous
// one; it takes precedence over the namespace's (Namespace.On).
func (s *Socket) On(event string, h Handler) {
	s.mu.Lock()
	if s.handlers == nil {
		s.handlers = make(map[string]Handler)
	}
	s.handlers[event] = h
	s.mu.Unlock()
}

// OnDisconnect adds a handler run once when the socket leaves.
func (s *Socket) OnDisconnect(h func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, h)
	s.mu.Unlock()
}

// Connected reports whether the socket is still in its namespace.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Emit sends an event to this socket. Arguments: json.RawMessage is written
// as is; []byte becomes a binary attachment; *Message splices its args and
// attachments (to echo what was received); anything else is JSON-encoded.
func (s *Socket) Emit(event string, args ...any) error {
	if parser.IsReserved(event) {
		return ErrReservedEvent
	}
	frames, err := encode(parser.Packet{Type: parser.Event, Namespace: s.ns.name}, event, args, false)
	if err != nil {
		return err
	}
	return s.client.conn.SendFrames(frames...)
}

// EmitWithAck sends an event asking for an acknowledgement; cb gets the
// client's answer, or ErrAckTimeout after timeout, or ErrDisconnected. A
// timeout of zero or less waits for the answer or the disconnect, with no
// timer: durable deliveries wait as long as the connection lives.
func (s *Socket) EmitWithAck(event string, timeout time.Duration, cb AckCallback, args ...any) error {
	_, err := s.EmitWithAckID(event, timeout, cb, args...)
	return err
}

// EmitWithAckID is EmitWithAck that also returns the packet's ack id, for
// DropAck. cb may run before EmitWithAckID returns.
func (s *Socket) EmitWithAckID(event string, timeout time.Duration, cb AckCallback, args ...any) (uint64, error) {
	if parser.IsReserved(event) {
		return 0, ErrReservedEvent
	}
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return 0, ErrDisconnected
	}
	if len(s.acks) >= s.ns.srv.cfg.MaxPendingAcks {
		s.mu.Unlock()
		return 0, ErrTooManyPendingAcks
	}
	id := s.nextAck
	s.nextAck++
	pa := &pendingAck{cb: cb}
	if s.acks == nil {
		s.acks = make(map[uint64]*pendingAck)
	}
	s.acks[id] = pa
	// Armed under the lock so onAck always sees the timer.
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() {
			if p := s.takeAck(id); p != nil {
				p.cb(nil, ErrAckTimeout)
			}
		})
	}
	s.mu.Unlock()

	frames, err := encode(parser.Packet{Type: parser.Event, Namespace: s.ns.name, ID: id, HasID: true}, event, args, false)
	if err == nil {
		err = s.client.conn.SendFrames(frames...)
	}
	if err != nil {
		if p := s.takeAck(id); p != nil {
			p.stopTimer()
		}
		return 0, err
	}
	return id, nil
}

// DropAck forgets the pending ack id without calling its callback, freeing
// its MaxPendingAcks slot: for a caller that learnt the answer another way
// (a durable event receipted by the ack of a later one, which the client
// answers instead of every event). It reports whether id was pending.
func (s *Socket) DropAck(id uint64) bool {
	p := s.takeAck(id)
	if p == nil {
		return false
	}
	p.stopTimer()
	return true
}

func (s *Socket) takeAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.acks[id]
	delete(s.acks, id)
	return p
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) { s.ns.Adapter().AddAll(s, rooms) }

// Leave removes the socket from room.
func (s *Socket) Leave(room string) { s.ns.Adapter().Del(s, room) }

// Rooms returns the socket's rooms, its own-id room first.
func (s *Socket) Rooms() []string { return s.ns.Adapter().SocketRooms(s) }

// To selects members of rooms, excluding this socket.
func (s *Socket) To(rooms ...string) *Broadcast { return s.ns.To(rooms...).Except(s.id) }

// Broadcast selects the whole namespace except this socket.
func (s *Socket) Broadcast() *Broadcast { return s.ns.Except(s.id) }

// Disconnect removes the socket from its namespace, telling the client
// (which then does not reconnect on its own). With closeConn every
// namespace of the client is left the same way and the Engine.IO session
// ends once those DISCONNECTs are written.
func (s *Socket) Disconnect(closeConn bool) {
	if !closeConn {
		s.kick()
		return
	}
	for _, sock := range s.client.socketList() {
		sock.kick()
	}
	s.client.conn.CloseAfterFlush(engineio.ReasonForcedClose)
}

// kick sends DISCONNECT for the socket's namespace and leaves it.
func (s *Socket) kick() {
	p := parser.Packet{Type: parser.Disconnect, Namespace: s.ns.name}
	_ = s.client.conn.SendFrames(engineio.NewTextMessage(p.Append([]byte{byte(engineio.Message)}), false))
	s.close(ReasonServerNamespaceDisconnect)
}

func (s *Socket) sendFrames(frames []*engineio.Frame) {
	_ = s.client.conn.SendFrames(frames...)
}

func (s *Socket) sendConnectAck() {
	p := parser.Packet{Type: parser.Connect, Namespace: s.ns.name}
	wire := p.Append([]byte{byte(engineio.Message)})
	wire = append(wire, `{"sid":"`...)
	wire = append(wire, s.id...)
	wire = append(wire, `"}`...)
	_ = s.client.conn.SendFrames(engineio.NewTextMessage(wire, false))
}

// onEvent dispatches an EVENT from the client.
func (s *Socket) onEvent(p parser.Packet, atts [][]byte) error {
	args, err := parser.SplitArray(p.Data)
	if err != nil {
		return err
	}
	name, err := parser.EventName(p.Data)
	if err != nil {
		return err
	}
	s.mu.Lock()
	h := s.handlers[name]
	s.mu.Unlock()
	if h == nil {
		h = s.ns.handler(name)
	}
	var ack Ack
	if p.HasID {
		ack = s.ackFunc(p.ID)
	}
	if h == nil {
		if u := s.ns.unknown.Load(); u != nil {
			(*u)(s, name, ack)
		}
		return nil // without a fallback, like the reference server: ignored
	}
	h(s, &Message{Args: args[1:], Attachments: atts}, ack)
	return nil
}

func (s *Socket) ackFunc(id uint64) Ack {
	var done atomic.Bool
	return func(args ...any) error {
		if done.Swap(true) {
			return ErrAlreadyAcked
		}
		frames, err := encode(parser.Packet{Type: parser.Ack, Namespace: s.ns.name, ID: id, HasID: true}, "", args, false)
		if err != nil {
			return err
		}
		return s.client.conn.SendFrames(frames...)
	}
}

// onAck delivers the client's ACK; an unknown id is ignored.
func (s *Socket) onAck(p parser.Packet, atts [][]byte) error {
	args, err := parser.SplitArray(p.Data)
	if err != nil {
		return err
	}
	pa := s.takeAck(p.ID)
	if pa == nil {
		return nil
	}
	pa.stopTimer()
	pa.cb(&Message{Args: args, Attachments: atts}, nil)
	return nil
}

// close leaves the namespace once: rooms, pending acks, handlers.
func (s *Socket) close(reason string) {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return
	}
	s.connected = false
	acks := s.acks
	s.acks = nil
	handlers := s.onDisconnect
	s.mu.Unlock()

	s.client.removeSocket(s)
	s.ns.remove(s)
	for _, pa := range acks {
		pa.stopTimer()
		pa.cb(nil, ErrDisconnected)
	}
	for _, h := range handlers {
		h(reason)
	}
}
