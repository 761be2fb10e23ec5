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
// and control frames. It is fed whatever a read returned, in any pieces.
// Payload bytes are unmasked into the message as they arrive, so what the
// parser holds grows with the bytes received, never with the length a
// header announces (a 16-byte send once cost a 1 MB buffer). An idle
// socket's parser holds no buffer.
//
// No extension is negotiated, so RSV bits must be 0. Text messages are
// checked for UTF-8 as they arrive (§8.1) and refused at the first byte
// that cannot be, with 1007.
type wsParser struct {
	max int // message size limit in bytes; 0 means none

	hdr  [maxClientHeader]byte // the start of a header that is not complete yet
	nhdr int                   // bytes in hdr

	cur     wsHeader // the frame whose payload is being read, while inFrame
	inFrame bool
	left    int // payload bytes of cur still to come

	ctrl  []byte     // unmasked payload of the control frame so far
	msg   []byte     // unmasked payload of the data message so far
	msgOp byte       // opText or opBinary while a data message is being read, else 0
	text  utf8Stream // the text message's UTF-8 state
}

// maxClientHeader is the longest client frame header: 2 bytes, a 64-bit
// length and the mask key.
const maxClientHeader = 14

// atBoundary reports whether no frame is partly read. A fragmented message
// may still be open: its next fragment is a new frame.
func (p *wsParser) atBoundary() bool { return p.nhdr == 0 && !p.inFrame }

// feed parses b, after the bytes earlier feeds left incomplete, and calls
// emit for each data message and each control frame, in stream order. The
// data passed to emit is a fresh copy that emit may keep. When emit returns
// false, feed stops and drops the rest: the socket is done. A *frameError
// means the stream is broken; the parser must not be fed again.
func (p *wsParser) feed(b []byte, emit func(op byte, data []byte) bool) error {
	for {
		if !p.inFrame {
			if len(b) == 0 {
				return nil
			}
			n, err := p.readHeader(b)
			if err != nil {
				p.drop()
				return err
			}
			b = b[n:]
			if !p.inFrame {
				return nil // the header's rest is still to come
			}
		}
		rest, err := p.takePayload(b)
		if err != nil {
			return err
		}
		b = rest
		if p.left > 0 {
			return nil
		}
		p.inFrame = false
		more, err := p.endFrame(emit)
		if err != nil || !more || p.cur.op == opClose {
			// Nothing is read after a close frame (§5.5.1).
			p.drop()
			return err
		}
	}
}

// takePayload takes what b holds of the current frame's payload and
// returns the rest of b. A broken payload drops the stream.
func (p *wsParser) takePayload(b []byte) ([]byte, error) {
	n := min(len(b), p.left)
	if n == 0 {
		return b, nil
	}
	if err := p.payload(b[:n]); err != nil {
		p.drop()
		return nil, err
	}
	p.left -= n
	return b[n:], nil
}

// drop forgets everything: the stream is over.
func (p *wsParser) drop() {
	p.nhdr, p.inFrame, p.left = 0, false, 0
	p.ctrl, p.msg, p.msgOp = nil, nil, 0
}

// readHeader takes header bytes from the start of b and reports how many
// it used. Once the header is complete the frame starts (inFrame).
func (p *wsParser) readHeader(b []byte) (int, error) {
	src, took := b, 0
	if p.nhdr > 0 {
		took = copy(p.hdr[p.nhdr:], b)
		src = p.hdr[:p.nhdr+took]
	}
	h, ok, err := p.header(src)
	if err != nil {
		return 0, err
	}
	if !ok {
		// Shorter than a header, so it all fits in hdr.
		if p.nhdr == 0 {
			took = copy(p.hdr[:], b)
		}
		p.nhdr += took
		return len(b), nil
	}
	used := h.size - p.nhdr
	p.nhdr = 0
	p.cur, p.left, p.inFrame = h, h.length, true
	if h.op == opText || h.op == opBinary {
		p.msgOp = h.op
		p.text = utf8Stream{}
	}
	return used, nil
}

// errInvalidUTF8 fails a text message (or close reason) that is not UTF-8.
var errInvalidUTF8 = &frameError{code: websocket.CloseInvalidFramePayloadData, msg: "invalid UTF-8"}

// payload takes the next bytes of the current frame's payload, still
// masked.
func (p *wsParser) payload(b []byte) error {
	off := p.cur.length - p.left // where b starts in the frame, for the mask
	switch p.cur.op {
	case opText, opBinary, opContinuation:
		n := len(p.msg)
		p.msg = unmaskAt(p.msg, b, p.cur.mask, off)
		if p.msgOp == opText && !p.text.feed(p.msg[n:]) {
			return errInvalidUTF8
		}
	default:
		p.ctrl = unmaskAt(p.ctrl, b, p.cur.mask, off)
	}
	return nil
}

// endFrame handles a frame whose payload is complete. It reports whether
// to go on.
func (p *wsParser) endFrame(emit func(byte, []byte) bool) (bool, error) {
	switch op := p.cur.op; op {
	case opText, opBinary, opContinuation:
		if !p.cur.fin {
			return true, nil
		}
		if p.msgOp == opText && !p.text.complete() {
			return false, errInvalidUTF8
		}
		op, msg := p.msgOp, p.msg
		p.msgOp, p.msg = 0, nil
		if msg == nil {
			msg = []byte{}
		}
		return emit(op, msg), nil
	default:
		data := p.ctrl
		p.ctrl = nil
		if data == nil {
			data = []byte{}
		}
		if op == opClose {
			if _, err := checkClosePayload(data); err != nil {
				return false, err
			}
		}
		return emit(op, data), nil
	}
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
	if err := p.checkOpcode(h.op, h.fin, n); err != nil {
		return h, false, err
	}
	if b[1]&0x80 == 0 {
		return h, false, badFrame("unmasked client frame")
	}
	length, size, ok, err := payloadLength(b, n)
	if !ok || err != nil {
		return h, false, err
	}
	h.size = size
	if err := p.checkLength(h.op, length); err != nil {
		return h, false, err
	}
	h.length = int(length)
	if len(b) < h.size+4 {
		return h, false, nil
	}
	copy(h.mask[:], b[h.size:h.size+4])
	h.size += 4
	return h, true, nil
}

// checkOpcode applies the rules of the first two header bytes: a known
// opcode, a short unfragmented control frame, data frames in their place
// in a fragmented message. n is the 7-bit length.
func (p *wsParser) checkOpcode(op byte, fin bool, n int) error {
	switch op {
	case opClose, opPing, opPong:
		if n > maxControlPayload {
			return badFrame("control frame over 125 bytes")
		}
		if !fin {
			return badFrame("fragmented control frame")
		}
	case opText, opBinary:
		if p.msgOp != 0 {
			return badFrame("data frame inside a fragmented message")
		}
	case opContinuation:
		if p.msgOp == 0 {
			return badFrame("continuation without a message")
		}
	default:
		return badFrame("bad opcode " + strconv.Itoa(int(op)))
	}
	return nil
}

// payloadLength decodes the payload length, whose 7-bit field is n, and
// returns it with the header size before the mask key; ok is false while
// b holds only part of it.
func payloadLength(b []byte, n int) (length uint64, size int, ok bool, err error) {
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, 0, false, nil
		}
		return uint64(binary.BigEndian.Uint16(b[2:])), 4, true, nil
	case 127:
		if len(b) < 10 {
			return 0, 0, false, nil
		}
		length = binary.BigEndian.Uint64(b[2:])
		if length>>63 != 0 {
			return 0, 0, false, badFrame("payload length with the high bit set")
		}
		return length, 10, true, nil
	default:
		return uint64(n), 2, true, nil
	}
}

// checkLength bounds a frame's payload: a data frame by what is left of
// the message limit, any frame by the int range.
func (p *wsParser) checkLength(op byte, length uint64) error {
	if op == opText || op == opBinary || op == opContinuation {
		if p.max > 0 && length > uint64(p.max-len(p.msg)) {
			return errMessageTooBig
		}
	}
	if length > math.MaxInt32 {
		// Only reachable without a size limit; keep lengths in int range.
		return errMessageTooBig
	}
	return nil
}

// unmaskAt appends payload XORed with the mask key (§5.3) to dst; off is
// payload's offset in its frame (every frame's masking starts at key[0]).
func unmaskAt(dst, payload []byte, key [4]byte, off int) []byte {
	n := len(dst)
	dst = append(dst, payload...)
	out := dst[n:]
	for i := range out {
		out[i] ^= key[(off+i)&3]
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
		// A reason is text: not UTF-8 is 1007, as for a text message.
		return 0, errInvalidUTF8
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
