package engineio

import (
	"bytes"
	"net/http"
	"time"
)

// writeLoop drains the queue to sock and exits when it is empty, so idle
// sessions hold no writer goroutine.
func (c *Conn) writeLoop(sock *wsSocket) {
	defer c.srv.wg.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || (c.phase.closed() && c.writer != writerDraining) {
			drained := c.writer == writerDraining
			c.writer = writerIdle
			reason := c.reason
			c.mu.Unlock()
			if drained {
				sock.close(reason)
			}
			return
		}
		batch := c.takeQueueLocked()
		c.mu.Unlock()

		// The whole backlog goes out in as few syscalls as it can.
		if err := sock.w.writeFrames(batch, time.Now().Add(c.srv.cfg.WriteTimeout)); err != nil {
			c.mu.Lock()
			drained := c.writer == writerDraining
			c.writer = writerIdle
			c.mu.Unlock()
			if drained {
				sock.closeNow()
			}
			c.close(ReasonTransportError, false)
			return
		}
	}
}

// serveWebSocket opens a session that starts on WebSocket.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	c := s.newConn(r, kindWebSocket)
	sock, err := s.upgrade(w, r, c)
	if err != nil {
		s.release(r.RemoteAddr)
		return // the upgrader has written the HTTP error
	}
	c.ws = sock
	if !s.open(c, []string{}) {
		sock.closeNow()
		return
	}
	// The reader hands the socket to the poller (or runs on a goroutine
	// of its own) and the handler returns, which frees net/http's
	// per-connection buffers and the handler's deep stack.
	sock.start()
}

// upgradeProbe handles the WebSocket a polling session upgrades to:
// 2probe → 3probe, release the held GET with a noop, then wait for "5".
// The probe keeps a reader goroutine (with the upgrade deadline) until the
// upgrade completes; then the poller takes it over.
func (c *Conn) upgradeProbe(w http.ResponseWriter, r *http.Request) {
	// The client may poll again as soon as it reads the 101, before the
	// probe is registered below: such a GET must already count as one
	// made mid-upgrade.
	c.mu.Lock()
	if c.phase.closed() {
		c.mu.Unlock()
		c.srv.refuseClosed(w, r)
		return
	}
	c.probesOpening++
	c.mu.Unlock()
	sock, err := c.srv.upgrade(w, r, c)
	c.mu.Lock()
	c.probesOpening--
	c.mu.Unlock()
	if err != nil {
		return
	}
	sock.probing = true
	c.mu.Lock()
	if c.phase.closed() || c.kind != kindPolling || c.probe != nil {
		// One WebSocket per session: keep the first, drop this one.
		c.mu.Unlock()
		sock.closeNow()
		return
	}
	c.probe = sock
	c.mu.Unlock()
	_ = sock.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.UpgradeTimeout))
	sock.start()
}

// probeMessage handles one message of a probe; false drops the probe.
func (s *wsSocket) probeMessage(data []byte, binary bool) bool {
	c := s.c
	if binary {
		s.abandonProbe()
		return false
	}
	if !s.probed {
		if !bytes.Equal(data, []byte("2probe")) || !s.writeProbe() {
			s.abandonProbe()
			return false
		}
		s.probed = true
		c.mu.Lock()
		c.transitionLocked(evProbeAnswered)
		c.wakePollLocked() // the held GET answers "6" so the client can pause polling
		c.mu.Unlock()
		return true
	}
	p, err := DecodeFrame(data, false)
	ok := err == nil
	if ok {
		switch p.Type {
		case Upgrade:
			// Messages behind "5" in the same read are the session's.
			ok = c.switchToWebSocket(s)
			s.probing = !ok
		case Ping:
			// A repeated probe is harmless; anything else before "5" is not.
			ok = bytes.Equal(p.Data, []byte("probe")) && s.writeProbe()
		case Noop:
		default:
			ok = false
		}
	}
	if !ok {
		s.abandonProbe()
	}
	return ok
}

// writeProbe answers "3probe"; no writer goroutine uses a probe socket.
func (s *wsSocket) writeProbe() bool {
	return s.w.writeFrames([]*Frame{probeFrame}, time.Now().Add(s.c.srv.cfg.WriteTimeout)) == nil
}

// abandonProbe drops a probe that failed; the session stays on polling.
func (s *wsSocket) abandonProbe() {
	s.stopped = true
	c := s.c
	c.mu.Lock()
	if c.probe == s {
		c.probe = nil
		c.transitionLocked(evProbeDropped)
	}
	c.mu.Unlock()
	s.closeNow()
}

func (c *Conn) switchToWebSocket(sock *wsSocket) bool {
	_ = sock.nc.SetReadDeadline(time.Time{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase.closed() || c.probe != sock {
		return false
	}
	c.transitionLocked(evUpgraded)
	c.ws = sock
	c.probe = nil
	c.wakePollLocked() // a still-held GET ends with "6"
	if len(c.queue) > 0 {
		c.kickLocked() // packets queued during the switch go out here, in order
	}
	return true
}
