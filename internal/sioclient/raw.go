package sioclient

import (
	"bufio"
	"bytes"
	"context"
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

// WebSocket opcodes (RFC 6455 §5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Close codes the tests name (RFC 6455 §7.4.1).
const (
	CloseNormal      = 1000
	CloseProtocol    = 1002
	CloseNoStatus    = 1005 // the close frame carried no code
	CloseInvalidData = 1007
	CloseTooBig      = 1009
)

// maxFrame bounds what one server frame may make us allocate.
const maxFrame = 64 << 20

// maskKey is fixed: the server must not care which key a client picks, and
// a fixed one keeps test failures reproducible.
var maskKey = [4]byte{0x9a, 0x1e, 0x5c, 0x03}

// Frame is one WebSocket frame. Every field may break the rules: that is
// what frame-level tests send.
type Frame struct {
	Fin     bool
	RSV     byte // the three RSV bits, 0–7
	Op      byte
	Masked  bool // on write: mask as a client must; on read: the server masked it
	Payload []byte
}

// Encode returns f on the wire, masked with the fixed key when f.Masked.
func (f Frame) Encode() []byte {
	b := f.Header(len(f.Payload))
	if !f.Masked {
		return append(b, f.Payload...)
	}
	return append(b, Mask(f.Payload, 0)...)
}

// Header is f's header for a payload of n bytes (f.Payload is ignored),
// with the mask key when f.Masked: with [Mask], it lets a test stream a
// frame too big to build in memory.
func (f Frame) Header(n int) []byte {
	b0 := f.Op&0x0f | (f.RSV&7)<<4
	if f.Fin {
		b0 |= 0x80
	}
	var m byte
	if f.Masked {
		m = 0x80
	}
	b := make([]byte, 0, 14+n)
	switch {
	case n <= 125:
		b = append(b, b0, m|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, b0, m|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, b0, m|127), uint64(n))
	}
	if f.Masked {
		b = append(b, maskKey[:]...)
	}
	return b
}

// Mask returns a masked copy of p, which starts at offset at of its
// frame's payload.
func Mask(p []byte, at int) []byte {
	out := make([]byte, len(p))
	for i, c := range p {
		out[i] = c ^ maskKey[(at+i)&3]
	}
	return out
}

// CloseError is a close frame from the server.
type CloseError struct {
	Code int // CloseNoStatus when the frame had no code
	Text string
}

func (e *CloseError) Error() string { return fmt.Sprintf("websocket closed: %d %q", e.Code, e.Text) }

// ClosePayload is the payload of a close frame with code and reason.
func ClosePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// RawOptions tune DialRaw.
type RawOptions struct {
	Header  http.Header   // added to the upgrade request
	Early   []byte        // written in the same write as the request, before the 101
	Timeout time.Duration // bounds the upgrade and each write; 5 s when zero
	// ReadBufferSize is the read buffer's size, 4 KiB when zero (many
	// thousands of connections in one test may want less).
	ReadBufferSize int
}

// RawConn is a WebSocket client on a bare TCP connection: it can send what
// a well-behaved client never would (bytes behind the request, bad frames,
// any split of a frame across writes) and reads the server's frames as
// they are. One reader and any number of writers may use it at once.
type RawConn struct {
	nc      net.Conn
	br      *bufio.Reader
	timeout time.Duration
	scratch [8]byte // the reader's: header bytes without an allocation each

	wmu sync.Mutex // one frame at a time on the wire
}

// DialRaw upgrades rawURL (ws:// or http://) by hand. When the server
// answers anything but 101 it returns that response, with its body read
// into memory, and an error.
func DialRaw(ctx context.Context, rawURL string, opts RawOptions) (*RawConn, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.ReadBufferSize == 0 {
		opts.ReadBufferSize = 4096
	}
	d := net.Dialer{Timeout: opts.Timeout}
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	deadline := time.Now().Add(opts.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = nc.SetDeadline(deadline)
	c := &RawConn{nc: nc, br: bufio.NewReaderSize(nc, opts.ReadBufferSize), timeout: opts.Timeout}
	resp, err := c.upgrade(u, opts)
	if err != nil {
		_ = nc.Close()
		return nil, resp, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, resp, nil
}

func (c *RawConn) upgrade(u *url.URL, opts RawOptions) (*http.Response, error) {
	host := u.Host
	if h := opts.Header.Get("Host"); h != "" { // a test of virtual hosts
		host = h
		opts.Header = opts.Header.Clone()
		opts.Header.Del("Host")
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), host)
	req.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
	req.WriteString("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
	if err := opts.Header.Write(&req); err != nil {
		return nil, err
	}
	req.WriteString("\r\n")
	req.Write(opts.Early)
	if _, err := c.nc.Write(req.Bytes()); err != nil {
		return nil, fmt.Errorf("upgrade request: %w", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, fmt.Errorf("upgrade response: %w", err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		_ = resp.Body.Close()
		return resp, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, fmt.Errorf("upgrade refused: %s", resp.Status)
}

// WriteRaw writes b as is: part of a frame, several frames, or garbage.
func (c *RawConn) WriteRaw(b []byte) error { return c.WriteRawWithin(b, c.timeout) }

// WriteRawWithin is WriteRaw with its own bound on the write.
func (c *RawConn) WriteRawWithin(b []byte, d time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(d))
	_, err := c.nc.Write(b)
	return err
}

// WriteFrame writes f (set f.Masked for a frame a server must accept).
func (c *RawConn) WriteFrame(f Frame) error { return c.WriteRaw(f.Encode()) }

// WriteMessage writes one whole masked message of type op.
func (c *RawConn) WriteMessage(op byte, data []byte) error {
	return c.WriteFrame(Frame{Fin: true, Op: op, Masked: true, Payload: data})
}

// WriteClose writes a close frame with code and reason.
func (c *RawConn) WriteClose(code int, reason string) error {
	return c.WriteMessage(OpClose, ClosePayload(code, reason))
}

// SetReadDeadline bounds the next reads; the zero time waits for ever.
func (c *RawConn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// Close closes the TCP connection without a closing handshake.
func (c *RawConn) Close() error { return c.nc.Close() }

// ReadFrame reads the next frame as the server sent it, unmasking it if
// it was masked (Masked tells).
func (c *RawConn) ReadFrame() (Frame, error) {
	h := c.scratch[:2]
	if _, err := io.ReadFull(c.br, h); err != nil {
		return Frame{}, err
	}
	f := Frame{Fin: h[0]&0x80 != 0, RSV: h[0] >> 4 & 7, Op: h[0] & 0x0f, Masked: h[1]&0x80 != 0}
	n, err := c.readLength(h[1] & 0x7f)
	if err != nil {
		return Frame{}, err
	}
	var key [4]byte
	if f.Masked {
		if _, err := io.ReadFull(c.br, c.scratch[:4]); err != nil {
			return Frame{}, err
		}
		copy(key[:], c.scratch[:4])
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.Payload); err != nil {
		return Frame{}, err
	}
	if f.Masked {
		for i := range f.Payload {
			f.Payload[i] ^= key[i&3]
		}
	}
	return f, nil
}

func (c *RawConn) readLength(n7 byte) (uint64, error) {
	n := uint64(n7)
	switch n7 {
	case 126:
		if _, err := io.ReadFull(c.br, c.scratch[:2]); err != nil {
			return 0, err
		}
		n = uint64(binary.BigEndian.Uint16(c.scratch[:2]))
	case 127:
		if _, err := io.ReadFull(c.br, c.scratch[:8]); err != nil {
			return 0, err
		}
		n = binary.BigEndian.Uint64(c.scratch[:8])
	}
	if n > maxFrame {
		return 0, fmt.Errorf("server frame of %d bytes", n)
	}
	return n, nil
}

// ErrServerFrame is a server frame no server may send: masked, with RSV
// bits, or an unknown opcode.
var ErrServerFrame = errors.New("sioclient: bad server frame")

// ReadMessage reads the next data message (OpText or OpBinary), joining
// fragments and answering WebSocket pings. A close frame is answered and
// returned as a *CloseError. A frame the server must not send is an
// ErrServerFrame, so a test of a misbehaving server fails.
func (c *RawConn) ReadMessage() (byte, []byte, error) {
	var op byte
	var msg []byte
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return 0, nil, err
		}
		if f.Masked || f.RSV != 0 {
			return 0, nil, fmt.Errorf("%w: masked %v, RSV %d", ErrServerFrame, f.Masked, f.RSV)
		}
		switch f.Op {
		case OpPing:
			_ = c.WriteMessage(OpPong, f.Payload)
			continue
		case OpPong:
			continue
		case OpClose:
			return 0, nil, c.closed(f.Payload)
		case OpText, OpBinary:
			if op != 0 {
				return 0, nil, fmt.Errorf("%w: new message inside a fragmented one", ErrServerFrame)
			}
			op, msg = f.Op, f.Payload
		case OpContinuation:
			if op == 0 || len(msg)+len(f.Payload) > maxFrame {
				return 0, nil, fmt.Errorf("%w: stray or oversized continuation", ErrServerFrame)
			}
			msg = append(msg, f.Payload...)
		default:
			return 0, nil, fmt.Errorf("%w: opcode %#x", ErrServerFrame, f.Op)
		}
		if f.Fin {
			return op, msg, nil
		}
	}
}

// closed answers a server's close frame and turns it into a *CloseError.
func (c *RawConn) closed(p []byte) error {
	ce := &CloseError{Code: CloseNoStatus}
	if len(p) >= 2 {
		ce.Code, ce.Text = int(binary.BigEndian.Uint16(p)), string(p[2:])
		_ = c.WriteClose(ce.Code, "")
	} else {
		_ = c.WriteMessage(OpClose, nil)
	}
	return ce
}
