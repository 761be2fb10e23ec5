package rfc6455

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Frame opcodes (RFC 6455 §5.2).
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xA
)

// frame is one frame as a case sends it; every field may break the rules.
type frame struct {
	op      byte
	fin     bool
	rsv     byte // the three RSV bits, 0–7
	payload []byte
}

// encode masks f with key as a client must (§5.3).
func (f frame) encode(key [4]byte) []byte {
	b := append(make([]byte, 0, 14+len(f.payload)), f.header(len(f.payload), key)...)
	for i, c := range f.payload {
		b = append(b, c^key[i&3])
	}
	return b
}

// header is f's header for n payload bytes, mask key included.
func (f frame) header(n int, key [4]byte) []byte {
	b0 := f.op | f.rsv<<4
	if f.fin {
		b0 |= 0x80
	}
	b := make([]byte, 0, 14)
	switch {
	case n <= 125:
		b = append(b, b0, 0x80|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, b0, 0x80|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, b0, 0x80|127), uint64(n))
	}
	return append(b, key[:]...)
}

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
	nc   net.Conn
	br   *bufio.Reader
	key  [4]byte
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
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	u := url.URL{Path: path, RawQuery: "EIO=4&transport=websocket"}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13" +
		"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		_ = nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		_ = nc.Close()
		return nil, fmt.Errorf("upgrade: %s", resp.Status)
	}
	_ = nc.SetReadDeadline(time.Time{})
	c := &client{nc: nc, br: br, key: [4]byte{0x9a, 0x1e, 0x5c, 0x03}, done: make(chan struct{})}
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

func (c *client) readFrame() (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 || h[0]&0x70 != 0 || h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("server frame header %#x %#x: fragmented, RSV or masked", h[0], h[1])
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(c.br, data); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0f, data, nil
}

// answerPings writes the Engine.IO pongs that are due, unless a message
// is half sent (then the next boundary does).
func (c *client) answerPings() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.pongDue > 0 && !c.midMsg && !c.sentClose {
		c.pongDue--
		_, _ = c.nc.Write(frame{op: opText, fin: true, payload: []byte("3")}.encode(c.key))
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
		_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.nc.Write(b[:n]); err != nil {
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
	t := time.AfterFunc(d, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(d)
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
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.nc.Write(frame{op: opClose, fin: true, payload: p}.encode(c.key))
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
	_ = c.nc.Close()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if hungUp && !errors.Is(c.endErr, io.EOF) {
		err = c.endErr // a reset: the server hung up without a clean close
	}
	return hungUp, err
}
