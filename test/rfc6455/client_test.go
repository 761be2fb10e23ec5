package rfc6455

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// Frame opcodes (RFC 6455 §5.2), short names for the case tables.
const (
	opCont   = sioclient.OpContinuation
	opText   = sioclient.OpText
	opBinary = sioclient.OpBinary
	opClose  = sioclient.OpClose
	opPing   = sioclient.OpPing
	opPong   = sioclient.OpPong
)

// frame is one frame as a case sends it; every field may break the rules.
type frame struct {
	op      byte
	fin     bool
	rsv     byte // the three RSV bits, 0–7
	payload []byte
}

// wire is f as sioclient's raw mode sends it, masked as a client must
// (§5.3).
func (f frame) wire() sioclient.Frame {
	return sioclient.Frame{Fin: f.fin, RSV: f.rsv, Op: f.op, Masked: true, Payload: f.payload}
}

// encode is f on the wire.
func (f frame) encode() []byte { return f.wire().Encode() }

// header is f's header for n payload bytes, mask key included.
func (f frame) header(n int) []byte { return f.wire().Header(n) }

// event is what the client saw from the server, in order.
type event struct {
	kind string // "text", "binary", "pong", "close"
	data []byte
}

// client is one raw WebSocket connection. A reader goroutine collects the
// server's frames; Engine.IO pings ("2") are answered with "3" as soon as
// no message of the client's is half sent, since a data frame cannot go
// inside another message.
type client struct {
	rc   *sioclient.RawConn
	done chan struct{} // closed when the reader has seen the connection end

	mu        sync.Mutex
	cond      *sync.Cond
	events    []event
	ended     bool  // the reader is done: EOF or error
	endErr    error // why it ended
	midMsg    bool  // a message of the client's is half sent
	pongDue   int   // Engine.IO pings not answered yet
	sentClose bool  // no data frame may follow
}

// dial upgrades path on addr and starts the reader.
func dial(addr, path string) (*client, error) {
	u := url.URL{Scheme: "ws", Host: addr, Path: path, RawQuery: "EIO=4&transport=websocket"}
	rc, _, err := sioclient.DialRaw(context.Background(), u.String(), sioclient.RawOptions{Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	c := &client{rc: rc, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.read()
	return c, nil
}

// read collects the server's frames until the connection ends. The server
// neither masks nor fragments (it is checked: either ends the read).
func (c *client) read() {
	defer close(c.done)
	var err error
	for err == nil {
		var op byte
		var data []byte
		op, data, err = c.readFrame()
		if err != nil {
			break
		}
		c.mu.Lock()
		switch op {
		case opText:
			if string(data) == "2" { // Engine.IO ping
				c.pongDue++
				c.mu.Unlock()
				c.answerPings()
				continue
			}
			c.events = append(c.events, event{"text", data})
		case opBinary:
			c.events = append(c.events, event{"binary", data})
		case opPong:
			c.events = append(c.events, event{"pong", data})
		case opClose:
			c.events = append(c.events, event{"close", data})
		case opPing:
			// The server never pings at the WebSocket level.
			c.events = append(c.events, event{"ping", data})
		default:
			err = fmt.Errorf("server sent opcode %d", op)
		}
		c.cond.Broadcast()
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.ended, c.endErr = true, err
	c.cond.Broadcast()
	c.mu.Unlock()
}

// readFrame reads a frame as the server sent it, so that a fragmented,
// RSV or masked one is reported rather than handled.
func (c *client) readFrame() (byte, []byte, error) {
	f, err := c.rc.ReadFrame()
	if err != nil {
		return 0, nil, err
	}
	if !f.Fin || f.RSV != 0 || f.Masked {
		return 0, nil, fmt.Errorf("server frame: fin %v, RSV %d, masked %v: fragmented, RSV or masked", f.Fin, f.RSV, f.Masked)
	}
	return f.Op, f.Payload, nil
}

// answerPings writes the Engine.IO pongs that are due, unless a message
// is half sent (then the next boundary does).
func (c *client) answerPings() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.pongDue > 0 && !c.midMsg && !c.sentClose {
		c.pongDue--
		_ = c.rc.WriteRaw(frame{op: opText, fin: true, payload: []byte("3")}.encode())
	}
}

// write sends b in writes of chop bytes (all at once when chop is 0).
// midMsg tells whether a message of the client's is open once b is out.
// A write the server refuses (it hung up) is not an error: the case's
// outcome says whether that was right. write reports whether all of b
// went out.
func (c *client) write(b []byte, chop int, midMsg bool) bool {
	c.mu.Lock()
	c.midMsg = true
	c.mu.Unlock()
	if chop <= 0 {
		chop = len(b)
	}
	ok := true
	for len(b) > 0 {
		n := min(chop, len(b))
		if err := c.rc.WriteRawWithin(b[:n], 5*time.Second); err != nil {
			ok = false
			break
		}
		b = b[n:]
	}
	c.mu.Lock()
	c.midMsg = midMsg
	c.mu.Unlock()
	c.answerPings()
	return ok
}

// wait blocks until cond holds (under c.mu) or d has passed; it reports
// whether cond held.
func (c *client) wait(d time.Duration, cond func() bool) bool {
	// The deadline is taken before the timer starts, so the timer's
	// broadcast never comes before it: a waiter woken by it then sees the
	// deadline passed, where it used to wait again, with nothing left to
	// wake it until the connection ended (5.19 hung for the server's
	// ping interval + timeout on a loaded machine).
	deadline := time.Now().Add(d)
	t := time.AfterFunc(d, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !cond() {
		if !time.Now().Before(deadline) {
			return false
		}
		c.cond.Wait()
	}
	return true
}

// serverClosed reports, under c.mu, whether the server sent a close frame
// or hung up.
func (c *client) serverClosedLocked() bool {
	if c.ended {
		return true
	}
	for _, e := range c.events {
		if e.kind == "close" {
			return true
		}
	}
	return false
}

// snapshot copies the events so far.
func (c *client) snapshot() []event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event(nil), c.events...)
}

// mark records a case's own event ("timeout": a pause passed with the
// connection open) among the server's.
func (c *client) mark(kind, label string) {
	c.mu.Lock()
	c.events = append(c.events, event{kind, []byte(label)})
	c.mu.Unlock()
}

// sendClose writes a close frame with payload p and notes whether the
// client started the closing handshake (no close from the server yet).
func (c *client) sendClose(p []byte) (first bool) {
	c.mu.Lock()
	first = !c.serverClosedLocked()
	c.sentClose = true
	c.mu.Unlock()
	_ = c.rc.WriteRawWithin(frame{op: opClose, fin: true, payload: p}.encode(), time.Second)
	return first
}

// waitEnd waits up to d for the server to hang up, then closes the
// socket. hungUp is false when the client had to drop the connection.
func (c *client) waitEnd(d time.Duration) (hungUp bool, err error) {
	select {
	case <-c.done:
		hungUp = true
	case <-time.After(d):
	}
	_ = c.rc.Close()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if hungUp && !errors.Is(c.endErr, io.EOF) {
		err = c.endErr // a reset: the server hung up without a clean close
	}
	return hungUp, err
}
