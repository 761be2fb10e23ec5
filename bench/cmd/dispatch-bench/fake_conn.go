package main

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fconn is one of the fake server's Engine.IO sessions over WebSocket,
// joined to one namespace.
//
// Goroutines: readLoop owns the read side (br, rd) and is the only one to
// handle client packets; writeLoop owns the write side. Anyone may append
// to out under mu (appendEvent) and kick the writer. close closes nc,
// which ends both; the fake's WaitGroup waits for them.
type fconn struct {
	f    *fake
	nc   net.Conn
	rd   wsReader
	user *fuser // nil until the Socket.IO CONNECT is accepted
	ns   string // "/drivers"

	mu      sync.Mutex
	out     []byte // unmasked server frames waiting for writeLoop
	nextAck int64
	closed  bool // refuses appends once set

	kick      chan struct{}
	done      chan struct{} // closed by close, once
	closeOnce sync.Once
	joined    atomic.Bool
}

// errSlowClient is why a socket whose backlog passed maxFakeBacklog is
// closed: a client that stopped reading must not grow the fake without
// bound.
var errSlowClient = errors.New("client backlog over limit")

// defaultMaxBacklog bounds one socket's unwritten bytes.
const defaultMaxBacklog = 8 << 20

func newFconn(f *fake, nc net.Conn, br *bufio.Reader) *fconn {
	c := &fconn{f: f, nc: nc, kick: make(chan struct{}, 1), done: make(chan struct{})}
	c.rd = wsReader{br: br, control: c.onControl}
	return c
}

// serve runs the session until the client leaves or the fake stops.
func (c *fconn) serve() {
	c.f.wg.Go(c.writeLoop)
	c.readLoop()
	c.close()
	if u := c.user; u != nil {
		u.drop(c)
	}
}

func (c *fconn) readLoop() {
	var open [160]byte
	b := append(open[:0], `0{"sid":"`...)
	b = strconv.AppendInt(b, c.f.sids.Add(1), 36)
	b = append(b, `","upgrades":[],"pingInterval":`...)
	b = strconv.AppendInt(b, c.f.cfg.pingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, c.f.cfg.pingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":1000000}`...)
	c.appendFrame(b)
	for {
		op, p, err := c.rd.next()
		if err != nil {
			return
		}
		if op != opText {
			continue
		}
		fr, err := parseFrame(p)
		if err != nil || fr.eio != '4' {
			continue // pongs ('3') and anything unreadable: nothing to do
		}
		if !c.packet(&fr) {
			return
		}
	}
}

// packet handles one Socket.IO packet; false ends the session.
func (c *fconn) packet(fr *frame) bool {
	switch fr.sio {
	case '0':
		return c.connect(fr)
	case '2':
		if !c.joined.Load() || string(fr.ns) != c.ns {
			return false
		}
		c.f.event(c, fr)
	case '1':
		return false
	}
	return true // acks of our events ('3') are read and dropped
}

// connect answers a Socket.IO CONNECT: the token's role must match the
// namespace, and one namespace per session is all the bench uses.
func (c *fconn) connect(fr *frame) bool {
	ns := string(fr.ns)
	if c.joined.Load() {
		c.connectError(ns, "conflict", "one namespace per session")
		return true
	}
	tok, _ := fieldValue(fr.data, "token")
	claims, code := c.f.verify(string(tok), ns)
	if code != "" {
		c.f.refused.Add(1)
		c.connectError(ns, code, "refused")
		return true
	}
	c.ns = ns
	c.user = c.f.tenant(claims.tenant).user(claims.role, claims.sub)
	c.user.add(c)
	c.joined.Store(true)
	b := appendPacket(make([]byte, 0, 64), '0', ns, noAck)
	b = append(b, `{"sid":"`...)
	b = strconv.AppendInt(b, c.f.sids.Add(1), 36)
	c.appendFrame(append(b, `"}`...))
	return true
}

func (c *fconn) connectError(ns, code, msg string) {
	b := appendPacket(nil, '4', ns, noAck)
	b = append(b, `{"message":"`+msg+`","data":{"code":"`+code+`"}}`...)
	c.appendFrame(b)
}

// ackOK answers a client request `43/ns,<id>[{"ok":true<rest>}]`; rest is
// either empty or starts with a comma.
func (c *fconn) ackOK(id int64, rest ...[]byte) {
	if id < 0 {
		return
	}
	b := appendPacket(make([]byte, 0, 512), '3', c.ns, id)
	b = append(b, `[{"ok":true`...)
	for _, r := range rest {
		b = append(b, r...)
	}
	c.appendFrame(append(b, "}]"...))
}

func (c *fconn) ackError(id int64, code string) {
	if id < 0 {
		return
	}
	b := appendPacket(make([]byte, 0, 128), '3', c.ns, id)
	b = append(b, `[{"ok":false,"error":{"code":"`+code+`","message":"`+code+`"}}]`...)
	c.appendFrame(b)
}

// appendFrame queues one server frame (unmasked) holding payload.
func (c *fconn) appendFrame(payload []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.out = appendServerFrame(c.out, opText, payload)
	over := len(c.out) > c.f.cfg.maxBacklog
	c.mu.Unlock()
	c.queued(over)
}

// appendEvent queues `42/ns,<ack>["name",<head><seq><tail>]` with the
// socket's next ack id. seq < 0 leaves the seq and the ack request out
// (best-effort events). It runs under the recipient user's lock, so
// events reach the wire in seq order.
func (c *fconn) appendEvent(name string, head []byte, seq int64, tail []byte) {
	var num [20]byte
	var hdr [64]byte
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	id := int64(noAck)
	if seq >= 0 {
		id = c.nextAck
		c.nextAck++
	}
	h := appendPacket(hdr[:0], '2', c.ns, id)
	h = append(h, `["`...)
	h = append(h, name...)
	h = append(h, `",`...)
	s := num[:0]
	if seq >= 0 {
		s = strconv.AppendInt(s, seq, 10)
	}
	c.out = appendFrameHeader(c.out, opText, len(h)+len(head)+len(s)+len(tail)+1)
	c.out = append(append(append(append(append(c.out, h...), head...), s...), tail...), ']')
	over := len(c.out) > c.f.cfg.maxBacklog
	c.mu.Unlock()
	c.queued(over)
}

// queued wakes the writer, or closes a socket whose backlog is over the
// limit (counted and logged).
func (c *fconn) queued(over bool) {
	if over {
		c.f.evicted.Add(1)
		c.f.logf("fake: closing a %s socket: %v", c.ns, errSlowClient)
		c.close()
		return
	}
	c.wake()
}

func (c *fconn) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// writeLoop writes whatever accumulated since its last write in one
// syscall, and pings every pingInterval.
func (c *fconn) writeLoop() {
	ping := time.NewTicker(c.f.cfg.pingInterval)
	defer ping.Stop()
	var spare []byte
	for {
		select {
		case <-c.done:
			return
		case <-ping.C:
			c.appendFrame([]byte("2"))
			continue
		case <-c.kick:
		}
		c.mu.Lock()
		if len(c.out) == 0 {
			c.mu.Unlock() // swapping now would hand out spare twice
			continue
		}
		buf := c.out
		c.out = spare[:0]
		c.mu.Unlock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.nc.Write(buf); err != nil {
			c.close()
			return
		}
		c.f.writes.Add(1)
		if cap(buf) <= 1<<20 {
			spare = buf // keep a moderate buffer, let a burst's big one go
		} else {
			spare = nil
		}
	}
}

// onControl answers websocket pings with a pong; it runs on the reader.
func (c *fconn) onControl(op byte, payload []byte) {
	if op != opPing {
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.out = appendServerFrame(c.out, opPong, payload)
	}
	c.mu.Unlock()
	c.wake()
}

// close ends the session once: no more appends, and both loops return.
func (c *fconn) close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.out = nil
		c.mu.Unlock()
		close(c.done)
		_ = c.nc.Close()
	})
}

// appendFrameHeader appends an unmasked frame header for n payload bytes.
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return append(dst, 126, byte(n>>8), byte(n))
	default:
		return append(dst, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// appendServerFrame appends one unmasked server frame holding payload.
func appendServerFrame(dst []byte, op byte, payload []byte) []byte {
	return append(appendFrameHeader(dst, op, len(payload)), payload...)
}
