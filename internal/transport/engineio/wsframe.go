package engineio

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation byte = 0x0
	opText         byte = 0x1
	opBinary       byte = 0x2
	opClose        byte = 0x8
	opPing         byte = 0x9
	opPong         byte = 0xA
)

// maxControlPayload is the largest payload of a control frame (§5.5).
const maxControlPayload = 125

// frameError is a client's violation of RFC 6455 or of the message size
// limit. The reader answers it with a close frame carrying code
// (websocket.CloseProtocolError or websocket.CloseMessageTooBig) and drops
// the socket.
type frameError struct {
	code int
	msg  string
}

func (e *frameError) Error() string { return "websocket: " + e.msg }

func badFrame(msg string) *frameError {
	return &frameError{code: websocket.CloseProtocolError, msg: msg}
}

var errMessageTooBig = &frameError{code: websocket.CloseMessageTooBig, msg: "message too big"}

// wsParser turns the byte stream a WebSocket client sends into messages
// and control frames. It is fed whatever a read returned, in any pieces,
// and keeps between feeds only what an incomplete frame or fragmented
// message needs: an idle socket's parser holds no buffer.
//
// No extension is negotiated, so RSV bits must be 0. Text is passed on
// without UTF-8 validation, as gorilla/websocket did.
type wsParser struct {
	max     int    // message size limit in bytes; 0 means none
	partial []byte // an incomplete frame's bytes, nil at a frame boundary
	msg     []byte // unmasked payload of the fragmented message so far
	msgOp   byte   // opText or opBinary while a fragmented message is open, else 0
}

// atBoundary reports whether no frame is partly read. A fragmented message
// may still be open: its next fragment is a new frame.
func (p *wsParser) atBoundary() bool { return len(p.partial) == 0 }

// feed parses b, after the bytes an earlier feed left incomplete, and calls
// emit for each data message and each control frame, in stream order. The
// data passed to emit is a fresh copy that emit may keep. When emit returns
// false, feed stops and drops the rest: the socket is done. A *frameError
// means the stream is broken; the parser must not be fed again.
func (p *wsParser) feed(b []byte, emit func(op byte, data []byte) bool) error {
	buf := b
	if len(p.partial) > 0 {
		p.partial = append(p.partial, b...)
		buf = p.partial
	}
	for len(buf) > 0 {
		h, ok, err := p.header(buf)
		if err != nil {
			p.partial = nil
			return err
		}
		total := h.size + h.length
		if !ok || len(buf) < total {
			p.keep(buf, total)
			return nil
		}
		payload := buf[h.size:total]
		buf = buf[total:]
		more, err := p.frame(h, payload, emit)
		if err != nil || !more || h.op == opClose {
			// Nothing is read after a close frame (§5.5.1).
			p.partial = nil
			return err
		}
	}
	p.partial = nil
	return nil
}

// keep saves rest, an incomplete frame, for the next feed. total is the
// frame's full length once its header is complete (else 0), so a large
// frame's buffer is allocated once at its final size.
func (p *wsParser) keep(rest []byte, total int) {
	need := max(total, len(rest), 16)
	if len(p.partial) > 0 && cap(p.partial) >= need {
		if &rest[0] != &p.partial[0] {
			// rest lies inside partial, after the frames just parsed.
			p.partial = p.partial[:copy(p.partial, rest)]
		}
		return
	}
	p.partial = append(make([]byte, 0, need), rest...)
}

type wsHeader struct {
	fin    bool
	op     byte
	size   int // header bytes, mask key included
	length int // payload bytes
	mask   [4]byte
}

// header decodes the frame header at the start of b; ok is false while b
// holds only part of it. Every rule that the first two bytes decide is
// checked as soon as they are there, so a stream fails at the same point
// whatever pieces it arrives in.
func (p *wsParser) header(b []byte) (h wsHeader, ok bool, err error) {
	if len(b) < 2 {
		return h, false, nil
	}
	if b[0]&0x70 != 0 {
		return h, false, badFrame("RSV bit set")
	}
	h.fin = b[0]&0x80 != 0
	h.op = b[0] & 0x0f
	n := int(b[1] & 0x7f)
	switch h.op {
	case opClose, opPing, opPong:
		if n > maxControlPayload {
			return h, false, badFrame("control frame over 125 bytes")
		}
		if !h.fin {
			return h, false, badFrame("fragmented control frame")
		}
	case opText, opBinary:
		if p.msgOp != 0 {
			return h, false, badFrame("data frame inside a fragmented message")
		}
	case opContinuation:
		if p.msgOp == 0 {
			return h, false, badFrame("continuation without a message")
		}
	default:
		return h, false, badFrame("bad opcode " + strconv.Itoa(int(h.op)))
	}
	if b[1]&0x80 == 0 {
		return h, false, badFrame("unmasked client frame")
	}
	h.size = 2
	var length uint64
	switch n {
	case 126:
		if len(b) < 4 {
			return h, false, nil
		}
		length = uint64(binary.BigEndian.Uint16(b[2:]))
		h.size = 4
	case 127:
		if len(b) < 10 {
			return h, false, nil
		}
		length = binary.BigEndian.Uint64(b[2:])
		if length>>63 != 0 {
			return h, false, badFrame("payload length with the high bit set")
		}
		h.size = 10
	default:
		length = uint64(n)
	}
	if h.op == opText || h.op == opBinary || h.op == opContinuation {
		if p.max > 0 && length > uint64(p.max-len(p.msg)) {
			return h, false, errMessageTooBig
		}
	}
	if length > math.MaxInt32 {
		// Only reachable without a size limit; keep lengths in int range.
		return h, false, errMessageTooBig
	}
	h.length = int(length)
	if len(b) < h.size+4 {
		return h, false, nil
	}
	copy(h.mask[:], b[h.size:h.size+4])
	h.size += 4
	return h, true, nil
}

// frame handles one complete frame; payload is still masked and belongs
// to the caller's buffer. It reports whether to go on.
func (p *wsParser) frame(h wsHeader, payload []byte, emit func(byte, []byte) bool) (bool, error) {
	switch h.op {
	case opText, opBinary:
		if h.fin {
			return emit(h.op, unmask(make([]byte, 0, len(payload)), payload, h.mask)), nil
		}
		p.msgOp = h.op
		p.msg = unmask(p.msg, payload, h.mask)
		return true, nil
	case opContinuation:
		p.msg = unmask(p.msg, payload, h.mask)
		if !h.fin {
			return true, nil
		}
		op, msg := p.msgOp, p.msg
		p.msgOp, p.msg = 0, nil
		if msg == nil {
			msg = []byte{}
		}
		return emit(op, msg), nil
	case opClose:
		data := unmask(make([]byte, 0, len(payload)), payload, h.mask)
		if _, err := checkClosePayload(data); err != nil {
			return false, err
		}
		return emit(h.op, data), nil
	default: // ping or pong
		return emit(h.op, unmask(make([]byte, 0, len(payload)), payload, h.mask)), nil
	}
}

// unmask appends payload XORed with the mask key (§5.3) to dst. Every
// frame's masking starts at key[0].
func unmask(dst, payload []byte, key [4]byte) []byte {
	n := len(dst)
	dst = append(dst, payload...)
	out := dst[n:]
	for i := range out {
		out[i] ^= key[i&3]
	}
	return dst
}

// checkClosePayload validates a received close frame's payload (§5.5.1,
// §7.4): empty, or a valid status code and UTF-8 text. It returns the code
// to echo, websocket.CloseNoStatusReceived for an empty payload.
func checkClosePayload(data []byte) (int, error) {
	if len(data) == 0 {
		return websocket.CloseNoStatusReceived, nil
	}
	if len(data) == 1 {
		return 0, badFrame("close frame with a 1-byte payload")
	}
	code := int(binary.BigEndian.Uint16(data))
	if !validCloseCode(code) {
		return 0, badFrame("bad close code " + strconv.Itoa(code))
	}
	if !utf8.Valid(data[2:]) {
		return 0, badFrame("invalid UTF-8 in close frame")
	}
	return code, nil
}

// validCloseCode is the set gorilla/websocket accepted from a peer.
func validCloseCode(code int) bool {
	switch code {
	case 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013:
		return true
	}
	return code >= 3000 && code <= 4999
}
