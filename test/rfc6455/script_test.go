package rfc6455

import (
	"bytes"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// pauseFor stands in for Autobahn's one-second waits ("continueLater",
// the fail-fast timeouts): long enough for the server to act on what it
// has, short enough to keep the suite fast and the Engine.IO heartbeat
// (300 ms + 200 ms) alive while a fragmented message is open.
const pauseFor = 100 * time.Millisecond

// script is what a case does on one connection: frames go through the
// endpoint's wrapping, so a case is written in terms of its own messages.
type script struct {
	c    *client
	ep   *endpoint
	open byte // opcode of the client's message left open, else 0
	// closedByClient is set when the client started the closing handshake.
	closedByClient bool
	sentClose      bool
}

// wire maps one frame of a case to the frames sent: a text message gets
// the endpoint's prefix on its first frame and suffix on its last, every
// piece escaped; a binary message may be led by a text message of its
// own. Control frames and frames with reserved opcodes go as they are.
func (s *script) wire(f frame) []frame {
	var out []frame
	switch f.op {
	case opText, opBinary:
		if f.op == opBinary && s.ep.binaryLead != "" && s.open == 0 {
			out = append(out, frame{op: opText, fin: true, payload: []byte(s.ep.binaryLead)})
		}
		if f.op == opText {
			p := append([]byte(s.ep.prefix), s.ep.escape(f.payload)...)
			if f.fin {
				p = append(p, s.ep.suffix...)
			}
			f.payload = p
		}
		s.open = f.op
	case opCont:
		if s.open == opText {
			p := s.ep.escape(f.payload)
			if f.fin {
				p = append(p, s.ep.suffix...)
			}
			f.payload = p
		}
	default:
		return []frame{f}
	}
	if f.fin {
		s.open = 0
	}
	return append(out, f)
}

func (s *script) encode(frames []frame) []byte {
	var b []byte
	for _, f := range frames {
		for _, w := range s.wire(f) {
			b = append(b, w.encode()...)
		}
	}
	return b
}

// send writes frames in one write.
func (s *script) send(frames ...frame) { s.sendChopped(0, frames...) }

// sendChopped writes frames as one byte stream in writes of chop bytes.
func (s *script) sendChopped(chop int, frames ...frame) {
	s.c.write(s.encode(frames), chop, s.open != 0)
}

// sendEach writes each frame in a write of its own.
func (s *script) sendEach(frames ...frame) {
	for _, f := range frames {
		s.send(f)
	}
}

// raw writes bytes already encoded; open tells whether a message of the
// client's is left open.
func (s *script) raw(b []byte, open bool) { s.c.write(b, 0, open) }

// pause waits pauseFor, or less if the server closes. If the connection
// is still open after it, the case notes ("timeout", label), as Autobahn
// does, and pause reports true.
func (s *script) pause(label string) bool {
	if s.c.wait(pauseFor, s.c.serverClosedLocked) {
		return false
	}
	s.c.mark("timeout", label)
	return true
}

// close sends a close frame with payload p.
func (s *script) close(p []byte) {
	first := s.c.sendClose(p)
	if !s.sentClose {
		s.closedByClient = first
	}
	s.sentClose = true
}

// waitMessages waits up to d until the case has received n messages or
// pongs, or the server closes.
func (s *script) waitMessages(n int, d time.Duration) {
	s.c.wait(d, func() bool {
		got := 0
		for _, e := range s.ep.unwrap(s.c.events) {
			if e.kind != "close" {
				got++
			}
		}
		return got >= n || s.c.serverClosedLocked()
	})
}

// stream sends one unfragmented message of n payload bytes (wrapped for
// the endpoint), 64k at a time, and stops early if the server hangs up:
// the cases that use it are refused on their header, and building and
// masking megabytes the server never reads only slows the suite.
func (s *script) stream(op byte, n int) {
	pre, suf := []byte(nil), []byte(nil)
	if op == opText {
		pre, suf = []byte(s.ep.prefix), []byte(s.ep.suffix)
	} else if s.ep.binaryLead != "" {
		s.c.write(frame{op: opText, fin: true, payload: []byte(s.ep.binaryLead)}.encode(), 0, false)
	}
	total := len(pre) + n + len(suf)
	hdr := frame{op: op, fin: true}.header(total)
	// Every chunk starts at the same mask phase (its length is a multiple
	// of 4), so one masked copy serves them all.
	chunk := sioclient.Mask(bytes.Repeat([]byte("BAsd7&jh23"), 6552), len(pre))
	s.c.write(append(hdr, sioclient.Mask(pre, 0)...), 0, true)
	left := n
	for left > 0 {
		k := min(left, len(chunk))
		if !s.c.write(chunk[:k], 0, true) {
			return
		}
		left -= k
	}
	s.c.write(sioclient.Mask(suf, len(pre)+n), 0, false)
}

// Frame helpers.
func text(p string) frame                        { return frame{op: opText, fin: true, payload: []byte(p)} }
func bin(p []byte) frame                         { return frame{op: opBinary, fin: true, payload: p} }
func ping(p string) frame                        { return frame{op: opPing, fin: true, payload: []byte(p)} }
func pong(p string) frame                        { return frame{op: opPong, fin: true, payload: []byte(p)} }
func fragment(op byte, fin bool, p string) frame { return frame{op: op, fin: fin, payload: []byte(p)} }

// closePayload is a close frame's payload: a code and a reason.
func closePayload(code int, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// Expected event helpers.
func msg(p string) event     { return event{"text", []byte(p)} }
func binMsg(p []byte) event  { return event{"binary", p} }
func pongEv(p string) event  { return event{"pong", []byte(p)} }
func timeout(l string) event { return event{"timeout", []byte(l)} }
