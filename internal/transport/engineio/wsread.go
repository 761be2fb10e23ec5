package engineio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/transport/engineio/internal/netpoll"
)

// wsSocket is one WebSocket of a session. gorilla/websocket does the HTTP
// upgrade and nothing else: wsParser reads the raw connection and
// wsWriter writes it. Two drivers run that parser: the
// server's poller, which starts a reader goroutine only when the socket is
// readable (an idle socket holds none), and a goroutine that keeps reading
// (an upgrade probe until it completes, a connection that is not TCP, a
// server without a poller).
//
// Goroutines: at most one reader (run) at a time, guarded by gate and
// counted in srv.wg. Fields marked "reader" belong to the running reader.
type wsSocket struct {
	c *Conn
	// nc is the upgraded connection. gorilla's Conn is dropped after the
	// upgrade: nothing reads or writes through it, and it and its
	// buffered reader were about 700 B per idle socket.
	nc net.Conn
	w  wsWriter
	// watch is the poller's record of the socket; it has the connection
	// when the poller may watch it.
	watch netpoll.Watch

	early   []byte   // reader: bytes the client sent with its HTTP request
	frames  wsParser // reader
	probing bool     // reader: an upgrade probe, "5" not yet received
	probed  bool     // reader: "2probe" answered
	stopped bool     // reader: the socket is finished with

	gate netpoll.Gate // one reader at a time; readiness that comes while it runs

	// closeWith is the close frame's payload the socket ends with, set by
	// the reader before it ends the session: the echo of the client's
	// close, or the protocol error. It goes out after the replies already
	// queued (RFC 6455 §5.5.1 lets a close wait for the current message),
	// so a client sees the answers to everything read before it.
	closeWith atomic.Pointer[[]byte]
	// linger: a frame was refused mid-stream, so close drains the rest
	// before closing (see lingerClose).
	linger atomic.Bool
}

// controlWait bounds a pong or close frame written by the reader, as
// gorilla's own handlers did.
const controlWait = time.Second

// A refused frame's socket is drained for at most lingerTime and
// lingerMaxBytes (read into a discard buffer, so memory stays fixed).
const (
	lingerTime     = time.Second
	lingerMaxBytes = 8 << 20
)

// readBufferSize is the pooled buffer one read fills. It is borrowed only
// for the read, so idle sockets hold none.
const readBufferSize = 8 << 10

// readBufsKept is how many spare read buffers a server keeps (Server.bufs;
// netpoll.Buffers says why a fixed number).
const readBufsKept = 128

// upgrade performs the WebSocket handshake. Bytes the client sent right
// behind its request are already in net/http's buffer at hijack time:
// they are kept for the frame reader, where gorilla alone would refuse
// the upgrade.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, c *Conn) (*wsSocket, error) {
	h := &earlyHijacker{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(h, r, nil)
	if err != nil {
		return nil, err
	}
	nc := ws.NetConn()
	sock := &wsSocket{c: c, nc: nc, early: h.early, w: wsWriter{nc: nc}}
	sock.frames.max = s.cfg.MaxPayload
	if tc, ok := nc.(*net.TCPConn); ok && s.poll != nil {
		if raw, err := tc.SyscallConn(); err == nil {
			sock.watch.SetConn(raw)
		}
	}
	return sock, nil
}

// earlyHijacker hands gorilla's Upgrade the connection with an empty
// read buffer, keeping what was in it.
type earlyHijacker struct {
	http.ResponseWriter
	early []byte
}

func (h *earlyHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		h.early = bytes.Clone(b)
		_, _ = brw.Reader.Discard(n)
	}
	return nc, brw, nil
}

// start runs the first reader, which parses any early bytes and then
// hands the socket to the poller or keeps reading.
func (s *wsSocket) start() {
	s.gate.Hold()
	s.c.srv.wg.Add()
	go s.run(false)
}

// dispatch starts a reader for a socket the poller found readable, or
// tells the running one to read again.
func (s *wsSocket) dispatch() {
	if s.gate.Start() {
		s.c.srv.wg.Add()
		s.c.srv.readers.Run(s.runReadable)
	}
}

func (s *wsSocket) runReadable() { s.run(true) }

// run reads until the socket ends or, when the poller can take over, until
// a read finds nothing more, everything read is parsed and no frame is
// partial. readable means a read may find bytes: the poller saw some, or
// the last read filled the buffer.
func (s *wsSocket) run(readable bool) {
	defer s.c.srv.wg.Done()
	defer s.c.recoverPanic("websocket reader")
	if early := s.early; early != nil {
		s.early = nil
		if !s.consume(early) {
			return
		}
	}
	for {
		polled := s.pollable() && s.c.srv.poll.Register(s)
		if polled && !readable {
			if s.gate.Stop() {
				return // the poller starts the next reader
			}
			// Bytes came since the last read began.
		}
		bp := s.c.srv.bufs.Get()
		n, err := s.read(*bp, polled)
		var (
			msgs []wsMsg
			perr error
		)
		if n > 0 {
			msgs, perr = s.parse((*bp)[:n])
		}
		readable = n == len(*bp)
		// The buffer goes back before the handlers run: a CONNECT's
		// handlers wait on the database, and in a burst of connects
		// thousands of readers each held 8 KiB through them.
		s.c.srv.bufs.Put(bp)
		if n > 0 && !s.handleAll(msgs, perr) {
			return
		}
		if err != nil {
			s.readFailed(err)
			return
		}
	}
}

// pollable reports whether the poller may take the socket over: a probe
// keeps its reader (it has a deadline), and a partial frame is read to
// its end first, so an idle socket's parser holds no buffer.
func (s *wsSocket) pollable() bool {
	return s.watch.Pollable() && !s.probing && s.frames.atBoundary()
}

// read fills b. A polled socket's read never waits: it returns 0 bytes
// when there are none, and the poller reports the next ones. Otherwise it
// blocks until bytes come.
func (s *wsSocket) read(b []byte, polled bool) (int, error) {
	if polled {
		return s.watch.ReadNow(b)
	}
	return s.nc.Read(b)
}

// wsMsg is a data message or control frame parsed and not yet handled.
type wsMsg struct {
	op   byte
	data []byte // a fresh copy, not the read buffer
}

// consume parses b and handles what it held; false means the socket is
// finished with.
func (s *wsSocket) consume(b []byte) bool {
	return s.handleAll(s.parse(b))
}

// parse takes every complete message out of b, leaving b free for reuse.
// err is the stream's breakage after those messages, if any.
func (s *wsSocket) parse(b []byte) (msgs []wsMsg, err error) {
	err = s.frames.feed(b, func(op byte, data []byte) bool {
		msgs = append(msgs, wsMsg{op: op, data: data})
		return true
	})
	return msgs, err
}

// handleAll handles msgs in order, then a parse error; false means the
// socket is finished with. Once a message ends the socket the rest, and
// the error, are dropped, as if never read.
func (s *wsSocket) handleAll(msgs []wsMsg, err error) bool {
	for _, m := range msgs {
		if !s.onFrame(m.op, m.data) {
			return false
		}
	}
	if err != nil {
		var fe *frameError
		if errors.As(err, &fe) {
			s.c.srv.log.Info("websocket closed on a protocol error", zap.String("sid", s.c.ID()),
				zap.Int("code", fe.code), zap.String("error", fe.msg))
			msg := closePayload(fe.code, fe.msg)
			msg = msg[:min(len(msg), maxControlPayload)]
			s.closeWith.Store(&msg)
			s.linger.Store(true)
		}
		s.endAfterReplies(ReasonTransportError)
		return false
	}
	return !s.stopped
}

func (s *wsSocket) onFrame(op byte, data []byte) bool {
	if !s.handleFrame(op, data) {
		s.stopped = true
		return false
	}
	return true
}

func (s *wsSocket) handleFrame(op byte, data []byte) bool {
	switch op {
	case opPing:
		// A failed pong shows up as a failed read or a missed heartbeat.
		_ = s.w.writeControl(opPong, data, time.Now().Add(controlWait))
		return true
	case opPong:
		return true
	case opClose:
		code, _ := checkClosePayload(data) // validated by the parser
		echo := closePayload(code, "")
		s.closeWith.Store(&echo)
		s.endAfterReplies(ReasonTransportClose)
		return false
	}
	binary := op == opBinary
	if s.probing {
		return s.probeMessage(data, binary)
	}
	p, err := DecodeFrame(data, binary)
	if err != nil {
		s.c.close(ReasonParseError, false)
		return false
	}
	return s.c.handlePacket(p)
}

// readFailed ends the socket after a failed read. A connection closed by
// the peer, even mid-frame, is a "transport close" (gorilla reported it as
// an abnormal closure).
func (s *wsSocket) readFailed(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		s.end(ReasonTransportClose)
		return
	}
	s.end(ReasonTransportError)
}

// end finishes the socket: a probe is dropped and the session goes on on
// polling; a session's socket ends the session.
func (s *wsSocket) end(reason string) {
	s.stopped = true
	if s.probing {
		s.abandonProbe()
		return
	}
	s.c.close(reason, false)
}

// endAfterReplies finishes the socket like end, but a session's queued
// replies go out before its close frame (closeWith). A probe has none.
func (s *wsSocket) endAfterReplies(reason string) {
	s.stopped = true
	if s.probing {
		if p := s.closeWith.Load(); p != nil {
			_ = s.w.writeControl(opClose, *p, time.Now().Add(controlWait))
		}
		s.abandonProbe()
		return
	}
	s.c.close(reason, true)
}

// unwatch takes the socket out of the poller. It must come before the
// connection is closed, so its fd number cannot be confused with a later
// connection's.
func (s *wsSocket) unwatch() {
	if s.watch.Pollable() {
		s.c.srv.poll.Unwatch(s)
	}
}

// closeNow drops the socket without a close frame.
func (s *wsSocket) closeNow() {
	s.unwatch()
	_ = s.nc.Close()
}

// close sends a close frame best-effort and closes the socket: the one
// the reader chose (closeWith), else 1000 unless the peer is gone. A peer
// that missed its pong may be alive but broken: it gets one, or it would
// see 1006, as if the server had crashed.
func (s *wsSocket) close(reason string) {
	s.unwatch()
	deadline := time.Now().Add(100 * time.Millisecond)
	if p := s.closeWith.Load(); p != nil {
		_ = s.w.writeControl(opClose, *p, deadline)
	} else if reason != ReasonTransportClose && reason != ReasonTransportError {
		_ = s.w.writeControl(opClose, closePayload(websocket.CloseNormalClosure, ""), deadline)
	}
	if s.linger.Load() {
		s.lingerClose()
		return
	}
	_ = s.nc.Close()
}

// lingerClose half-closes the socket and discards what the peer still
// sends (the rest of the refused frame, its close frame) until it closes,
// for a bounded time and amount, then closes. Closing with unread bytes
// makes the kernel send a reset, and a client whose write then fails may
// drop the close frame it was sent: Node's ws does, and sees 1006. It runs
// on close's goroutine (Conn.finish), counted in the server's wait group.
func (s *wsSocket) lingerClose() {
	if cw, ok := s.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = s.nc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, s.nc, lingerMaxBytes)
	_ = s.nc.Close()
}
