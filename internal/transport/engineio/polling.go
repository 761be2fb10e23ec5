package engineio

import (
	"errors"
	"io"
	"net/http"
)

// pollGet answers a long-polling GET: at once with whatever is queued, else
// when something arrives, the session closes or an upgrade starts.
func (c *Conn) pollGet(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.pollWake != nil {
		// A second concurrent GET is a protocol error: refuse it and end
		// the session, which releases the first GET with "1".
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errBadRequest)
		c.close(ReasonTransportError, false)
		return
	}
	if !c.pollReadyLocked() {
		wake := make(chan struct{}, 1)
		c.pollWake = wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-r.Context().Done():
			// The client gave up on its poll: the session is gone too.
			c.mu.Lock()
			c.pollWake = nil
			c.mu.Unlock()
			c.close(ReasonTransportClose, false)
			return
		}
		c.mu.Lock()
		c.pollWake = nil
	}
	frames := c.pollFramesLocked()
	c.mu.Unlock()
	writePoll(w, frames)
}

// pollReadyLocked reports whether a GET can be answered now.
func (c *Conn) pollReadyLocked() bool {
	return len(c.queue) > 0 || c.closed || c.upgrading || c.kind != kindPolling
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
	case c.closed:
		if c.closeSent {
			return []*Frame{noopFrame}
		}
		c.closeSent = true
		defer c.srv.forget(c)
		return []*Frame{closeFrame}
	default: // upgrading
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
	pkts, err := DecodePayload(body)
	if err != nil {
		c.close(ReasonParseError, false)
	} else {
		for _, p := range pkts {
			if !c.handlePacket(p) {
				break
			}
		}
	}
	// Like the reference server, a POST is acknowledged even when its
	// content ended the session; the next GET tells the client.
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}
