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
	var msgOp byte
	fragmented := false
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
			return 0, nil, err
		}
		fin := hdr[0]&0x80 != 0
		frameOp := hdr[0] & 0x0f
		masked := hdr[1]&0x80 != 0
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(r.br, ext[:]); err != nil {
				return 0, nil, err
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(r.br, ext[:]); err != nil {
				return 0, nil, err
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		if n > maxMessage || uint64(len(r.msg))+n > maxMessage {
			return 0, nil, fmt.Errorf("%w: frame of %d bytes", errWSProtocol, n)
		}
		var mask [4]byte
		if masked {
			if _, err := io.ReadFull(r.br, mask[:]); err != nil {
				return 0, nil, err
			}
		}
		control := frameOp >= opClose
		if control && (!fin || n > 125) {
			return 0, nil, fmt.Errorf("%w: bad control frame", errWSProtocol)
		}
		// Fast path: a whole unfragmented message that fits the buffer is
		// handed out in place and dropped on the next call.
		if !control && fin && !fragmented && int(n) <= r.br.Size() {
			if frameOp != opText && frameOp != opBinary {
				return 0, nil, fmt.Errorf("%w: opcode %d", errWSProtocol, frameOp)
			}
			p, err := r.br.Peek(int(n))
			if err != nil {
				return 0, nil, err
			}
			if masked {
				maskBytes(p, mask)
			}
			r.discard = int(n)
			return frameOp, p, nil
		}
		start := len(r.msg)
		r.msg = append(r.msg, make([]byte, n)...)
		if _, err := io.ReadFull(r.br, r.msg[start:]); err != nil {
			return 0, nil, err
		}
		if masked {
			maskBytes(r.msg[start:], mask)
		}
		if control {
			body := r.msg[start:]
			r.msg = r.msg[:start]
			if frameOp == opClose {
				return 0, nil, errWSClosed
			}
			if r.control != nil {
				r.control(frameOp, body)
			}
			continue
		}
		switch {
		case frameOp == opCont && !fragmented:
			return 0, nil, fmt.Errorf("%w: continuation without start", errWSProtocol)
		case frameOp != opCont && fragmented:
			return 0, nil, fmt.Errorf("%w: new message inside a fragmented one", errWSProtocol)
		case frameOp != opCont:
			if frameOp != opText && frameOp != opBinary {
				return 0, nil, fmt.Errorf("%w: opcode %d", errWSProtocol, frameOp)
			}
			msgOp = frameOp
			fragmented = true
		}
		if fin {
			return msgOp, r.msg, nil
		}
	}
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
