package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

var noDeadline time.Time

// ackFunc receives the payload of the ACK for a request. It runs on the
// connection's reader goroutine and must not block.
type ackFunc func(data []byte, now time.Time)

// eventFunc handles one server EVENT on the reader goroutine; it must not
// block. The frame's slices are only valid during the call.
type eventFunc func(c *conn, f *frame, now time.Time)

// conn is one Engine.IO session over WebSocket joined to one namespace.
//
// Goroutines: run (the reader) owns nc's read side and is the only one to
// touch rd; writeLoop owns the write side. Anyone may call send, which
// appends frames to out under mu and wakes writeLoop (in passive mode,
// without writeLoop, the reader writes its pongs itself). close closes nc,
// which ends both.
type conn struct {
	nc     net.Conn
	rd     wsReader
	ns     string // "/drivers"
	onEv   eventFunc
	idx    int // the user's number within its role and tenant
	closed atomic.Bool

	mu      sync.Mutex
	out     []byte // masked frames waiting for writeLoop
	nextAck int64
	pending map[int64]ackFunc
	rng     uint64 // masking keys of emit; a cheap generator is enough for a mask

	kick chan struct{} // nil in passive mode
	done chan struct{} // closed when the reader returns
	// ackBuf collects acks of events read in one batch; it and rrng (the
	// reader's masking keys) are reader-only.
	ackBuf []byte
	rrng   uint64

	pingInterval, pingTimeout time.Duration
	lastPing                  atomic.Int64 // unix ns of the last ping (or of the open)
	maxPingGap                atomic.Int64 // ns
	pings                     atomic.Int64
	readErr                   error // set before done is closed
}

// dialConfig says how to open one session.
type dialConfig struct {
	u       *url.URL
	local   net.Addr
	bufSize int
	ns      string
	token   string
	passive bool // no writer goroutine: only heartbeats are answered
	timeout time.Duration
}

// dialConn opens a session, joins the namespace with the token and starts
// the reader (and writer). onEv may be nil.
func dialConn(ctx context.Context, dc dialConfig, idx int, onEv eventFunc) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dc.timeout)
	defer cancel()
	nc, br, err := wsDial(ctx, dc.u, dc.local, dc.bufSize)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, ns: dc.ns, onEv: onEv, idx: idx, pending: map[int64]ackFunc{}, done: make(chan struct{}),
		rng: uint64(time.Now().UnixNano()) | 1, rrng: uint64(idx+1)*0x9E3779B97F4A7C15 | 1}
	c.rd = wsReader{br: br, control: c.onControl}
	if err := c.join(ctx, dc.token); err != nil {
		_ = nc.Close()
		return nil, err
	}
	if !dc.passive {
		c.kick = make(chan struct{}, 1)
		go c.writeLoop()
	}
	go c.run()
	return c, nil
}

// join reads the open packet, sends CONNECT with the token and waits for
// the namespace's answer, answering pings meanwhile.
func (c *conn) join(ctx context.Context, token string) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetDeadline(dl)
	}
	defer func() { _ = c.nc.SetDeadline(noDeadline) }()
	_, p, err := c.rd.next()
	if err != nil {
		return fmt.Errorf("read open packet: %w", err)
	}
	if len(p) == 0 || p[0] != '0' {
		return fmt.Errorf("first packet %.40q is not open", p)
	}
	var open struct {
		PingInterval int `json:"pingInterval"`
		PingTimeout  int `json:"pingTimeout"`
	}
	if err := json.Unmarshal(p[1:], &open); err != nil {
		return fmt.Errorf("open packet: %w", err)
	}
	c.pingInterval = time.Duration(open.PingInterval) * time.Millisecond
	c.pingTimeout = time.Duration(open.PingTimeout) * time.Millisecond
	c.lastPing.Store(time.Now().UnixNano())
	auth, _ := json.Marshal(map[string]string{"token": token})
	pkt := append(appendPacket(nil, '0', c.ns, noAck), auth...)
	if _, err := c.nc.Write(textFrame(&c.rrng, nil, pkt)); err != nil {
		return fmt.Errorf("send connect: %w", err)
	}
	for {
		_, p, err := c.rd.next()
		if err != nil {
			return fmt.Errorf("read connect reply: %w", err)
		}
		f, err := parseFrame(p)
		if err != nil {
			return err
		}
		switch {
		case f.eio == '2':
			if _, err := c.nc.Write(textFrame(&c.rrng, nil, []byte("3"))); err != nil {
				return err
			}
		case f.eio == '4' && f.sio == '0' && string(f.ns) == nsOf(c.ns):
			return nil
		case f.eio == '4' && f.sio == '4':
			return fmt.Errorf("connect %s refused: %s", c.ns, f.data)
		}
	}
}

func nsOf(ns string) string {
	if ns == "/" {
		return ""
	}
	return ns
}

// textFrame appends payload to dst as one masked text frame, drawing the
// mask from rng (xorshift).
func textFrame(rng *uint64, dst, payload []byte) []byte {
	return appendWSFrame(dst, opText, payload, nextMask(rng))
}

func nextMask(rng *uint64) [4]byte {
	x := *rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*rng = x
	return [4]byte{byte(x), byte(x >> 8), byte(x >> 16), byte(x >> 24)}
}

// emit sends event with a JSON payload; with fn it asks for an ack.
func (c *conn) emit(event string, payload []byte, fn ackFunc) {
	var pkt [512]byte
	c.mu.Lock()
	id := int64(noAck)
	if fn != nil {
		id = c.nextAck
		c.nextAck++
		c.pending[id] = fn
	}
	b := appendPacket(pkt[:0], '2', c.ns, id)
	b = append(b, `["`...)
	b = append(b, event...)
	b = append(b, `",`...)
	b = append(b, payload...)
	b = append(b, ']')
	c.out = textFrame(&c.rng, c.out, b)
	c.mu.Unlock()
	c.wake()
}

func (c *conn) wake() {
	if c.kick == nil {
		c.flushInline()
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *conn) flushInline() {
	c.mu.Lock()
	buf := c.out
	c.out = nil
	c.mu.Unlock()
	if len(buf) > 0 {
		_, _ = c.nc.Write(buf)
	}
}

// writeLoop writes whatever accumulated since its last write in one
// syscall, so acks and requests are batched per connection.
func (c *conn) writeLoop() {
	var spare []byte
	for {
		select {
		case <-c.done:
			return
		case <-c.kick:
		}
		c.mu.Lock()
		if len(c.out) == 0 {
			c.mu.Unlock()
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
		spare = buf
	}
}

// run is the reader: it parses each frame, answers pings, acks durable
// events (batched until the read buffer is empty) and resolves acks.
func (c *conn) run() {
	defer close(c.done)
	for {
		if len(c.ackBuf) > 0 && (c.rd.buffered() == 0 || len(c.ackBuf) > 32<<10) {
			c.mu.Lock()
			c.out = append(c.out, c.ackBuf...)
			c.mu.Unlock()
			c.ackBuf = c.ackBuf[:0]
			c.wake()
		}
		_, p, err := c.rd.next()
		if err != nil {
			c.readErr = err
			return
		}
		now := time.Now()
		f, err := parseFrame(p)
		if err != nil {
			continue
		}
		switch f.eio {
		case '2':
			if gap := now.UnixNano() - c.lastPing.Load(); gap > c.maxPingGap.Load() {
				c.maxPingGap.Store(gap)
			}
			c.lastPing.Store(now.UnixNano())
			c.pings.Add(1)
			c.ackBuf = textFrame(&c.rrng, c.ackBuf, []byte("3"))
		case '4':
			c.packet(&f, now)
		}
	}
}

func (c *conn) packet(f *frame, now time.Time) {
	switch f.sio {
	case '2':
		if c.onEv != nil {
			c.onEv(c, f, now)
		}
	case '3':
		if f.ackID < 0 {
			return
		}
		c.mu.Lock()
		fn := c.pending[f.ackID]
		delete(c.pending, f.ackID)
		c.mu.Unlock()
		if fn != nil {
			fn(f.data, now)
		}
	}
}

// ack queues the acknowledgement of a server event `43/ns,<id>[]`.
func (c *conn) ack(id int64) {
	var pkt [64]byte
	b := appendPacket(pkt[:0], '3', c.ns, id)
	b = append(b, "[]"...)
	c.ackBuf = textFrame(&c.rrng, c.ackBuf, b)
}

// onControl answers websocket pings (servers may send them besides the
// Engine.IO heartbeat). It runs on the reader.
func (c *conn) onControl(op byte, payload []byte) {
	if op != opPing {
		return
	}
	c.ackBuf = appendWSFrame(c.ackBuf, opPong, payload, nextMask(&c.rrng))
}

// close ends the session; the reader and writer return.
func (c *conn) close() {
	if c.closed.CompareAndSwap(false, true) {
		_ = c.nc.Close()
	}
}

// unread is how many received bytes wait in the kernel for this
// connection's reader: a reader that falls behind lets it grow.
func (c *conn) unread() int {
	tc, ok := c.nc.(*net.TCPConn)
	if !ok {
		return 0
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			n = v
		}
	})
	return n
}

// sourceAddr is the i-th local address 127.0.0.(1 + i mod sources).
func sourceAddr(i, sources int) net.Addr {
	if sources <= 0 {
		return nil
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%sources))}
}

// itoa is strconv.Itoa, short.
func itoa(n int) string { return strconv.Itoa(n) }
