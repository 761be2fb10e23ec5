package engineio

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// readLoop owns reading from ws until the session or the socket ends. It
// runs on the hijacked HTTP handler goroutine.
func (c *Conn) readLoop(ws *websocket.Conn) {
	defer c.recoverPanic("websocket reader")
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			c.close(readErrorReason(err), false)
			return
		}
		p, err := DecodeFrame(data, mt == websocket.BinaryMessage)
		if err != nil {
			c.close(ReasonParseError, false)
			return
		}
		if !c.handlePacket(p) {
			return
		}
	}
}

func readErrorReason(err error) string {
	if errors.Is(err, websocket.ErrReadLimit) {
		return ReasonTransportError
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ReasonTransportClose
	}
	return ReasonTransportError
}

// writeLoop drains the queue to ws and exits when it is empty, so idle
// sessions hold no writer goroutine.
func (c *Conn) writeLoop(ws *websocket.Conn) {
	defer c.srv.wg.done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || (c.closed && !c.draining) {
			c.writing = false
			drained := c.draining
			c.draining = false
			reason := c.reason
			c.mu.Unlock()
			if drained {
				closeWebSocket(ws, reason)
			}
			return
		}
		batch := c.takeQueueLocked()
		c.mu.Unlock()

		_ = ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
		for _, f := range batch {
			if err := f.writeTo(ws); err != nil {
				c.mu.Lock()
				c.writing = false
				drained := c.draining
				c.draining = false
				c.mu.Unlock()
				if drained {
					_ = ws.Close()
				}
				c.close(ReasonTransportError, false)
				return
			}
		}
	}
}

// serveWebSocket opens a session that starts on WebSocket.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w) {
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.release()
		return // the upgrader has written the HTTP error
	}
	c := s.newConn(r, kindWebSocket)
	c.ws = ws
	ws.SetReadLimit(int64(s.cfg.MaxPayload))
	if !s.open(c, []string{}) {
		_ = ws.Close()
		return
	}
	// The reader runs on a fresh goroutine and the handler returns, which
	// frees net/http's per-connection buffers and the handler's deep stack.
	s.wg.add()
	go func() {
		defer s.wg.done()
		c.readLoop(ws)
	}()
}

// upgradeProbe handles the WebSocket a polling session upgrades to:
// 2probe → 3probe, release the held GET with a noop, then wait for "5".
func (c *Conn) upgradeProbe(w http.ResponseWriter, r *http.Request) {
	ws, err := c.srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c.mu.Lock()
	if c.closed || c.kind != kindPolling || c.probe != nil {
		// One WebSocket per session: keep the first, drop this one.
		c.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.probe = ws
	c.mu.Unlock()
	c.srv.wg.add()
	go func() {
		defer c.srv.wg.done()
		c.probeLoop(ws)
	}()
}

// probeLoop completes the upgrade on ws, then reads from it.
func (c *Conn) probeLoop(ws *websocket.Conn) {
	if !c.completeUpgrade(ws) {
		c.mu.Lock()
		if c.probe == ws {
			c.probe = nil
			c.upgrading = false
		}
		c.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.readLoop(ws)
}

func (c *Conn) completeUpgrade(ws *websocket.Conn) bool {
	ws.SetReadLimit(int64(c.srv.cfg.MaxPayload))
	_ = ws.SetReadDeadline(time.Now().Add(c.srv.cfg.UpgradeTimeout))
	mt, data, err := ws.ReadMessage()
	if err != nil || mt != websocket.TextMessage || !bytes.Equal(data, []byte("2probe")) {
		return false
	}
	_ = ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	if err := probeFrame.writeTo(ws); err != nil {
		return false
	}
	c.mu.Lock()
	c.upgrading = true
	c.wakePollLocked() // the held GET answers "6" so the client can pause polling
	c.mu.Unlock()

	for {
		mt, data, err = ws.ReadMessage()
		if err != nil || mt != websocket.TextMessage {
			return false
		}
		p, err := DecodeFrame(data, false)
		if err != nil {
			return false
		}
		switch p.Type {
		case Upgrade:
			return c.switchToWebSocket(ws)
		case Ping:
			// A repeated probe is harmless; anything else before "5" is not.
			if !bytes.Equal(p.Data, []byte("probe")) {
				return false
			}
			if err := probeFrame.writeTo(ws); err != nil {
				return false
			}
		case Noop:
		default:
			return false
		}
	}
}

func (c *Conn) switchToWebSocket(ws *websocket.Conn) bool {
	_ = ws.SetReadDeadline(time.Time{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.probe != ws {
		return false
	}
	c.kind = kindWebSocket
	c.ws = ws
	c.probe = nil
	c.upgrading = false
	c.wakePollLocked() // a still-held GET ends with "6"
	if len(c.queue) > 0 {
		c.kickLocked() // packets queued during the switch go out here, in order
	}
	return true
}
