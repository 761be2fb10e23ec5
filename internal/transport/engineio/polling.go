package engineio

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// pollGet answers a long-polling GET: at once with whatever is queued, else
// when something arrives, the session closes or an upgrade starts.
func (c *Conn) pollGet(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.refuseIfGoneAndUnlock(w) {
		return
	}
	if c.pollWake != nil {
		// A second concurrent GET is a protocol error: refuse it and end
		// the session, which releases the first GET with "1".
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errBadRequest)
		c.close(ReasonTransportError, false)
		return
	}
	// A GET that arrives once a probe WebSocket exists is held like the
	// reference server does (noop on its 100 ms check): refused if the
	// upgrade completes meanwhile, else released with a noop. A GET held
	// from before is released as soon as the probe is answered, so the
	// client can pause polling and send "5".
	duringUpgrade := c.probe != nil || c.probesOpening > 0
	var deadline <-chan time.Time
	if duringUpgrade {
		t := time.NewTimer(upgradePollHold)
		defer t.Stop()
		deadline = t.C
	}
	for !c.pollReadyLocked() && (duringUpgrade || c.phase != phaseUpgrading) {
		wake := make(chan struct{}, 1)
		c.pollWake = wake
		c.mu.Unlock()
		expired := false
		select {
		case <-wake:
		case <-deadline:
			expired = true
		case <-r.Context().Done():
			// The client gave up on its poll: the session is gone too,
			// in the same step, so no new GET slips in between.
			c.mu.Lock()
			c.pollWake = nil
			c.closeAndUnlock(ReasonTransportClose, false, false)
			return
		}
		c.mu.Lock()
		c.pollWake = nil
		if expired {
			break
		}
	}
	if duringUpgrade && c.kind != kindPolling {
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errBadRequest)
		return
	}
	frames := c.pollFramesLocked()
	c.mu.Unlock()
	writePoll(w, frames)
}

// upgradePollHold is how long a GET arriving mid-upgrade waits for it.
const upgradePollHold = 100 * time.Millisecond

// pollReadyLocked reports whether a GET can be answered now.
func (c *Conn) pollReadyLocked() bool {
	return len(c.queue) > 0 || c.phase.closed() || c.kind != kindPolling
}

// pollFramesLocked picks the GET's answer once it is ready.
func (c *Conn) pollFramesLocked() []*Frame {
	switch {
	case c.kind != kindPolling:
		return []*Frame{noopFrame} // upgraded: the rest goes on the WebSocket
	case len(c.queue) > 0:
		// The close, if any, waits for the next GET: clients hand
		// Socket.IO packets on asynchronously, so a "1" in the same body
		// would overtake the DISCONNECTs queued before it.
		return c.takeQueueLocked()
	case c.phase.closed():
		defer c.srv.forget(c)
		if !c.transitionLocked(evTold) {
			return []*Frame{noopFrame} // the client closed, or was told: just release it
		}
		return []*Frame{closeFrame}
	default: // upgrading, or the upgrade hold expired
		return []*Frame{noopFrame}
	}
}

func writePoll(w http.ResponseWriter, frames []*Frame) {
	n := 0
	for _, f := range frames {
		n += len(f.wire) + 1
	}
	body := make([]byte, 0, n)
	for i, f := range frames {
		if i > 0 {
			body = append(body, recordSeparator)
		}
		body = f.appendPolling(body)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// pollPost receives a long-polling body of one or more packets.
func (c *Conn) pollPost(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.phase.closed() {
		// Closed since ServeHTTP looked: nothing more is taken from it.
		c.mu.Unlock()
		c.srv.refuseClosed(w, r)
		return
	}
	if c.refuseIfGoneAndUnlock(w) {
		return
	}
	if c.posting {
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errBadRequest)
		c.close(ReasonTransportError, false)
		return
	}
	c.posting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.posting = false
		c.mu.Unlock()
	}()

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(c.srv.cfg.MaxPayload)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, errPayloadTooLarge)
		} else {
			writeError(w, http.StatusBadRequest, errBadRequest)
		}
		c.close(ReasonTransportError, false)
		return
	}
	// Records are decoded one at a time and handled in order, as the
	// reference server does: the packets before a bad record count, and
	// nothing after the packet that ends the session is even decoded.
	for p, err := range Payload(body) {
		if err != nil {
			c.close(ReasonParseError, false)
			break
		}
		if !c.handlePacket(p) {
			break
		}
	}
	// Like the reference server, a POST is acknowledged even when its
	// content ended the session; the next GET tells the client.
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}
