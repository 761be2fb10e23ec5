package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// A minimal RFC 6455 client: the bench's hot path reads frames straight out
// of a large bufio.Reader and writes many masked frames with one syscall,
// which a general-purpose library does not let it do.

const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

var (
	errWSClosed   = errors.New("websocket closed by peer")
	errWSProtocol = errors.New("websocket protocol error")
)

// maxMessage bounds one assembled message (a pickups list can be large).
const maxMessage = 16 << 20

// wsURL turns the bench's --url into the Engine.IO WebSocket endpoint.
func wsURL(base string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
	default:
		return nil, fmt.Errorf("url scheme %q: want http or ws (no TLS in the bench)", u.Scheme)
	}
	if u.Port() == "" {
		u.Host += ":80"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	return u, nil
}

// wsURLs is wsURL of each of a comma-separated list of base URLs: the
// nodes of a cluster, over which the scenario spreads its sockets.
func wsURLs(list string) ([]*url.URL, error) {
	var us []*url.URL
	for base := range strings.SplitSeq(list, ",") {
		if base = strings.TrimSpace(base); base == "" {
			continue
		}
		u, err := wsURL(base)
		if err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("url: none given")
	}
	return us, nil
}

// wsDial opens a TCP connection from local (nil: any) and performs the
// WebSocket handshake. The returned reader holds whatever the server sent
// after the 101.
func wsDial(ctx context.Context, u *url.URL, local net.Addr, bufSize int) (net.Conn, *bufio.Reader, error) {
	d := net.Dialer{LocalAddr: local}
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", u.Host, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var keyBytes [16]byte
	_, _ = rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		_ = nc.Close()
		return nil, nil, fmt.Errorf("write handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, bufSize)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		_ = nc.Close()
		return nil, nil, fmt.Errorf("read handshake: %w", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		_ = nc.Close()
		return nil, nil, fmt.Errorf("handshake: HTTP %d", res.StatusCode)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if res.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		_ = nc.Close()
		return nil, nil, errors.New("handshake: bad Sec-WebSocket-Accept")
	}
	_ = nc.SetDeadline(noDeadline)
	return nc, br, nil
}

// wsReader reads server frames. The slice next returns is valid until the
// following call.
type wsReader struct {
	br      *bufio.Reader
	msg     []byte // assembled fragments or a frame bigger than br
	discard int    // bytes of br to drop before the next read
	// control is called for ping frames with their payload (to be echoed
	// in a pong); close frames end the reader.
	control func(op byte, payload []byte)
}

// buffered is how many received bytes the reader holds beyond the message
// last returned: zero means the next call will block on the socket.
func (r *wsReader) buffered() int { return r.br.Buffered() - r.discard }

// next returns the next text or binary message.
func (r *wsReader) next() (op byte, payload []byte, err error) {
	if r.discard > 0 {
		_, _ = r.br.Discard(r.discard)
		r.discard = 0
	}
	r.msg = r.msg[:0]
	var msgOp byte // the message's opcode once its first fragment is in
	for {
		h, err := r.readHeader()
		if err != nil {
			return 0, nil, err
		}
		// Fast path: a whole unfragmented message that fits the buffer is
		// handed out in place and dropped on the next call.
		if !h.control() && h.fin && msgOp == 0 && h.n <= r.br.Size() {
			return r.inPlace(h)
		}
		start, err := r.appendPayload(h)
		if err != nil {
			return 0, nil, err
		}
		if h.control() {
			if err := r.takeControl(h.op, start); err != nil {
				return 0, nil, err
			}
			continue
		}
		if msgOp, err = messageOp(msgOp, h.op); err != nil {
			return 0, nil, err
		}
		if h.fin {
			return msgOp, r.msg, nil
		}
	}
}

// frameHeader is one frame's header as read off the wire.
type frameHeader struct {
	op     byte
	fin    bool
	masked bool
	n      int // payload length, at most maxMessage
	mask   [4]byte
}

func (h frameHeader) control() bool { return h.op >= opClose }

// readHeader reads one frame header. It refuses a frame that would take
// the message being assembled in r.msg past maxMessage, and a fragmented
// or oversized control frame.
func (r *wsReader) readHeader() (frameHeader, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return frameHeader{}, err
	}
	h := frameHeader{op: hdr[0] & 0x0f, fin: hdr[0]&0x80 != 0, masked: hdr[1]&0x80 != 0}
	n, err := r.readLength(hdr[1] & 0x7f)
	if err != nil {
		return frameHeader{}, err
	}
	if n > maxMessage || uint64(len(r.msg))+n > maxMessage {
		return frameHeader{}, fmt.Errorf("%w: frame of %d bytes", errWSProtocol, n)
	}
	h.n = int(n)
	// A local array, as before the split: handing h.mask to io.ReadFull
	// would move the whole header to the heap.
	var mask [4]byte
	if h.masked {
		if _, err := io.ReadFull(r.br, mask[:]); err != nil {
			return frameHeader{}, err
		}
	}
	h.mask = mask
	if h.control() && (!h.fin || h.n > 125) {
		return frameHeader{}, fmt.Errorf("%w: bad control frame", errWSProtocol)
	}
	return h, nil
}

// readLength reads the extended payload length that the 7-bit length n7
// announces, if any.
func (r *wsReader) readLength(n7 byte) (uint64, error) {
	switch n7 {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r.br, ext[:]); err != nil {
			return 0, err
		}
		return uint64(binary.BigEndian.Uint16(ext[:])), nil
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r.br, ext[:]); err != nil {
			return 0, err
		}
		return binary.BigEndian.Uint64(ext[:]), nil
	}
	return uint64(n7), nil
}

// inPlace returns a whole message that sits in br without copying it.
func (r *wsReader) inPlace(h frameHeader) (byte, []byte, error) {
	if h.op != opText && h.op != opBinary {
		return 0, nil, fmt.Errorf("%w: opcode %d", errWSProtocol, h.op)
	}
	p, err := r.br.Peek(h.n)
	if err != nil {
		return 0, nil, err
	}
	if h.masked {
		maskBytes(p, h.mask)
	}
	r.discard = h.n
	return h.op, p, nil
}

// appendPayload reads the frame's payload onto r.msg and returns where in
// r.msg it starts.
func (r *wsReader) appendPayload(h frameHeader) (int, error) {
	start := len(r.msg)
	r.msg = append(r.msg, make([]byte, h.n)...)
	if _, err := io.ReadFull(r.br, r.msg[start:]); err != nil {
		return 0, err
	}
	if h.masked {
		maskBytes(r.msg[start:], h.mask)
	}
	return start, nil
}

// takeControl acts on a control frame whose payload is r.msg[start:] and
// drops that payload from the message being assembled.
func (r *wsReader) takeControl(op byte, start int) error {
	body := r.msg[start:]
	r.msg = r.msg[:start]
	if op == opClose {
		return errWSClosed
	}
	if r.control != nil {
		r.control(op, body)
	}
	return nil
}

// messageOp checks a data frame's opcode against the message in progress
// (msgOp, 0 before its first fragment) and returns the message's opcode.
func messageOp(msgOp, frameOp byte) (byte, error) {
	switch {
	case frameOp == opCont && msgOp == 0:
		return 0, fmt.Errorf("%w: continuation without start", errWSProtocol)
	case frameOp != opCont && msgOp != 0:
		return 0, fmt.Errorf("%w: new message inside a fragmented one", errWSProtocol)
	case frameOp == opCont:
		return msgOp, nil
	case frameOp != opText && frameOp != opBinary:
		return 0, fmt.Errorf("%w: opcode %d", errWSProtocol, frameOp)
	}
	return frameOp, nil
}

func maskBytes(b []byte, key [4]byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// appendWSFrame appends one masked client frame holding payload.
func appendWSFrame(dst []byte, op byte, payload []byte, key [4]byte) []byte {
	dst = append(dst, 0x80|op)
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(dst[start:], key)
	return dst
}
