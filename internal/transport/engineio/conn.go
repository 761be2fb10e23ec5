package engineio

import (
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

type transportKind uint8

const (
	kindPolling transportKind = iota
	kindWebSocket
)

// Close reasons reported to OnClose.
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	ReasonPingTimeout    = "ping timeout"
	ReasonParseError     = "parse error"
	ReasonForcedClose    = "forced close"
	ReasonShutdown       = "server shutting down"
	ReasonSlowConsumer   = "slow consumer"
)

// Conn is one Engine.IO session. It outlives transports: a polling session
// that upgrades keeps the same Conn.
//
// Goroutines: on WebSocket a reader runs only while the socket has bytes to
// parse (the server's poller watches it otherwise, see wsSocket) and a
// writer only while the queue is non-empty, so an idle session has none.
// Polling sessions have none of their own.
type Conn struct {
	srv *Server
	id  string
	// What is kept of the opening request, not the *http.Request: a
	// session lives long and every byte counts per connection. uri is
	// path + "?" + raw query, one allocation apart from the request line.
	uri        string
	pathLen    int
	host       string
	remoteAddr string

	onMessage func(data []byte, binary bool)
	onClose   func(reason string)
	msgMu     sync.Mutex // serialises onMessage across a POST and the WebSocket reader

	// wheelSlot is the heartbeat wheel's, guarded by its lock.
	wheelSlot int

	// ended mirrors phase.closed(), written by transitionLocked, so that
	// the checks on every inbound message (Closed) take no lock.
	ended atomic.Bool

	// mu guards what follows. The session's life is phase and kind
	// (state.go: changed only by transitionLocked); the rest is state
	// that varies independently of it.
	mu    sync.Mutex
	phase phase
	kind  transportKind // polling until an upgrade completes
	// writer is the WebSocket writer goroutine's state (writeLoop).
	writer writerState
	ws     *wsSocket // the current WebSocket, once upgraded
	probe  *wsSocket // a WebSocket being upgraded to
	// probesOpening counts probe WebSockets in their HTTP handshake: a
	// GET arriving then is held as one made mid-upgrade.
	probesOpening int
	// addrHeld: the session counts against its address's limit; atomic,
	// as the slot is given back outside mu.
	addrHeld atomic.Bool
	queue    []*Frame
	// pollWake is non-nil while a polling GET is held; a send on it
	// releases the GET.
	pollWake chan struct{}
	// posting: a polling POST is being read; a second concurrent one is a
	// protocol error.
	posting bool
	// awaitingPong: a ping went out and its pong is due by pongDue (a
	// wheel tick). Independent of phase: the heartbeat runs on both
	// transports and through an upgrade.
	awaitingPong bool
	pongDue      int64
	reason       string // why the session ended, set as it leaves open or upgrading
}

// ID returns the Engine.IO session id. It is a bearer secret for polling:
// never log it or reuse it elsewhere.
func (c *Conn) ID() string { return c.id }

// Request returns what is kept of the opening request, a GET: URL path
// and query, Host and RemoteAddr (no headers). Each call builds a new
// *http.Request.
func (c *Conn) Request() *http.Request {
	return &http.Request{
		Method:     http.MethodGet,
		URL:        &url.URL{Path: c.uri[:c.pathLen], RawQuery: c.uri[c.pathLen+1:]},
		RemoteAddr: c.remoteAddr,
		Host:       c.host,
	}
}

// OnMessage sets the message handler. Set it inside the server's onConn
// callback. It is called in order, never concurrently; data belongs to the
// handler. It is never called once the session is closed, not even for the
// rest of a body or a read that held the packet that closed it.
func (c *Conn) OnMessage(h func(data []byte, binary bool)) { c.onMessage = h }

// OnClose sets the handler called once when the session ends, after the
// message handler running at that moment, if any, has returned: no
// message is handled after OnClose starts.
func (c *Conn) OnClose(h func(reason string)) { c.onClose = h }

// Closed reports whether the session has ended.
func (c *Conn) Closed() bool { return c.ended.Load() }

// CloseReason returns why the session ended, "" while it is open.
func (c *Conn) CloseReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// Transport returns "polling" or "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kind == kindWebSocket {
		return "websocket"
	}
	return "polling"
}

// Send queues one message. It never blocks: a session whose queue is full
// is closed as a slow consumer.
func (c *Conn) Send(data []byte, binary bool) error {
	return c.SendFrames(NewMessage(data, binary))
}

// SendFrames queues frames atomically and in order (a Socket.IO packet and
// its binary attachments). It never blocks.
func (c *Conn) SendFrames(frames ...*Frame) error {
	c.mu.Lock()
	if c.phase.closed() {
		c.mu.Unlock()
		return ErrConnClosed
	}
	if len(c.queue)+len(frames) > c.srv.cfg.SendQueue {
		c.mu.Unlock()
		c.srv.log.Warn("evicting slow consumer", zap.String("reason", ReasonSlowConsumer))
		c.srv.evictions.Add(1)
		c.close(ReasonSlowConsumer, false)
		return ErrSlowConsumer
	}
	c.queue = append(c.queue, frames...)
	c.kickLocked()
	c.mu.Unlock()
	return nil
}

// kickLocked starts draining the queue on the current transport.
func (c *Conn) kickLocked() {
	if c.kind == kindWebSocket {
		if c.writer == writerIdle && c.ws != nil {
			c.writer = writerRunning
			c.srv.wg.Add()
			go c.writeLoop(c.ws)
		}
		return
	}
	c.wakePollLocked()
}

func (c *Conn) wakePollLocked() {
	if c.pollWake != nil {
		select {
		case c.pollWake <- struct{}{}:
		default:
		}
	}
}

// Close ends the session at once; the client is told where the transport
// allows. Queued packets not yet written are dropped.
func (c *Conn) Close(reason string) { c.close(reason, false) }

// CloseAfterFlush ends the session once the packets queued so far have
// been written (e.g. Socket.IO DISCONNECTs before the socket closes).
func (c *Conn) CloseAfterFlush(reason string) { c.close(reason, true) }

func (c *Conn) close(reason string, flush bool) {
	c.mu.Lock()
	c.closeAndUnlock(reason, flush, false)
}

// closeAndUnlock is close entered with c.mu held, for callers that must
// change state and close in one step; it unlocks c.mu. byClient: the
// client asked for the end (its close packet), so it needs no telling.
func (c *Conn) closeAndUnlock(reason string, flush, byClient bool) {
	if c.phase.closed() {
		c.mu.Unlock()
		return
	}
	c.reason = reason
	ws, probe := c.ws, c.probe
	// On WebSocket a flushing close hands the socket to the writer, which
	// closes it once the queue is empty.
	if flush && ws != nil && (len(c.queue) > 0 || c.writer != writerIdle) {
		if c.writer == writerIdle {
			c.srv.wg.Add()
			go c.writeLoop(ws)
		}
		c.writer = writerDraining
		ws = nil
	}
	// A polling client learns of the end from a GET: "1" when the server
	// ended the session, "6" when the client asked for it. A held GET
	// answers at once; otherwise the session stays resolvable for the next
	// GET, bounded by one heartbeat. Sessions that failed (parse or
	// transport error, ping timeout) are dropped at once: their next GET
	// gets 400, as from the reference server.
	keep := c.kind == kindPolling && (c.pollWake != nil || byClient || serverInitiated(reason))
	switch {
	case !keep:
		c.transitionLocked(evEndDrop)
	case byClient:
		c.transitionLocked(evEndTold)
	default:
		c.transitionLocked(evEnd)
	}
	c.wakePollLocked()
	c.mu.Unlock()

	c.srv.giveAddr(c)
	if keep {
		c.srv.wheel.Schedule(c, c.srv.cfg.PingInterval+c.srv.cfg.PingTimeout)
	} else {
		c.srv.wheel.Remove(c)
		c.srv.forget(c)
	}
	c.srv.wg.Add()
	go c.finish(reason, ws, probe)
}

// finish releases the transports and runs OnClose off the caller's
// goroutine: close may be called from a broadcast, which must never wait.
func (c *Conn) finish(reason string, ws, probe *wsSocket) {
	defer c.srv.wg.Done()
	if probe != nil {
		probe.closeNow()
	}
	if ws != nil {
		ws.close(reason)
	}
	c.fireClose(reason)
}

// serverInitiated reports whether reason is the server's decision rather
// than a failure of the client or its transport.
func serverInitiated(reason string) bool {
	switch reason {
	case ReasonTransportError, ReasonTransportClose, ReasonParseError, ReasonPingTimeout:
		return false
	}
	return true
}

func (c *Conn) fireClose(reason string) {
	// A message being handled finishes first; deliver sees the session
	// closed from then on (see OnClose).
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	defer c.recoverPanic("close handler")
	if c.onClose != nil {
		c.onClose(reason)
	}
}

// refuseIfGoneAndUnlock is entered with c.mu held. It answers a polling
// request for a session that is gone (dropped, or past its pong deadline)
// as for an unknown session, unlocks c.mu and returns true. It returns
// false, with c.mu still held, when the session lives.
func (c *Conn) refuseIfGoneAndUnlock(w http.ResponseWriter) bool {
	switch {
	case c.phase == phaseDropped:
		c.mu.Unlock()
	case !c.phase.closed() && c.pongOverdueLocked():
		c.closeAndUnlock(ReasonPingTimeout, false, false)
	default:
		return false
	}
	writeError(w, http.StatusBadRequest, errUnknownSID)
	return true
}

// handlePacket processes one inbound packet; false means stop reading:
// the session is over, and what follows the packet is dropped unread.
func (c *Conn) handlePacket(p Packet) bool {
	if c.Closed() {
		return false
	}
	switch p.Type {
	case Pong:
		c.onPong()
	case Ping:
		// v4 heartbeats go server→client only.
		c.close(ReasonTransportError, false)
		return false
	case Message:
		return c.deliver(p.Data, p.Binary)
	case Close:
		c.mu.Lock()
		c.closeAndUnlock(ReasonTransportClose, false, true)
		return false
	}
	return true
}

// deliver hands a message to the handler unless the session is closed,
// checked under msgMu, which OnClose waits for; false means the session is
// over (the handler may have ended it).
func (c *Conn) deliver(data []byte, binary bool) bool {
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	if c.Closed() {
		return false
	}
	c.callOnMessage(data, binary)
	return !c.Closed()
}

func (c *Conn) callOnMessage(data []byte, binary bool) {
	defer c.recoverPanic("message handler")
	if c.onMessage != nil {
		c.onMessage(data, binary)
	}
}

// recoverPanic keeps a handler bug from taking the process down: it logs
// the stack and closes only this session, at once, so that nothing behind
// the packet is handled. close takes no lock a handler's caller holds.
func (c *Conn) recoverPanic(where string) {
	if r := recover(); r != nil {
		c.srv.log.Error("panic in "+where, zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
		c.close(ReasonTransportError, false)
	}
}

func (c *Conn) takeQueueLocked() []*Frame {
	q := c.queue
	c.queue = nil
	return q
}
