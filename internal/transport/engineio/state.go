package engineio

// phase is where a session is in its life. It changes only in
// transitionLocked, by the table in next:
//
//	open ──probe answered──▶ upgrading ──"5" on the probe──▶ open (on WebSocket)
//	  ▲                          │
//	  └──────probe dropped───────┘
//	open, upgrading ──end──▶ closed (polling: the next GET is told "1")
//	                    ├──▶ closedTold (polling: the next GET is released with a noop)
//	                    └──▶ dropped (gone: requests get "Session ID unknown")
//	closed ──a GET told the client "1"──▶ closedTold
//
// A WebSocket session always ends dropped: its client learns of the end
// from the socket. Whether a closed session is still in the registry is
// the registry's business (Server.forget), not a phase: a tombstone is
// forgotten once a GET answered it or a heartbeat passed, and keeps its
// phase for a request that looked it up just before.
type phase uint8

const (
	phaseOpen phase = iota
	// phaseUpgrading: on polling, a probe WebSocket answered "3probe";
	// the client pauses polling and sends "5" on the probe. A held GET is
	// released with a noop, and a new one that did not see the probe open
	// is answered at once.
	phaseUpgrading
	// phaseClosed: ended by the server; kept for the polling client's next
	// GET, which is answered "1".
	phaseClosed
	// phaseClosedTold: ended, and the client was told (or asked for it):
	// the next GET is released with a noop.
	phaseClosedTold
	// phaseDropped: ended and dropped from the registry at once (a failed
	// session, or any WebSocket session); a request that had looked it up
	// gets "Session ID unknown", as from the reference server.
	phaseDropped
)

// closed reports whether the session has ended.
func (p phase) closed() bool { return p >= phaseClosed }

// event is what moves a session from one phase to the next.
type event uint8

const (
	evProbeAnswered event = iota // "3probe" written on the probe
	evProbeDropped               // the probe failed; the session stays on polling
	evUpgraded                   // "5" on the probe: the session moves to WebSocket
	evEnd                        // ended; a polling client is told "1" by its next GET
	evEndTold                    // ended; a polling client needs no telling
	evEndDrop                    // ended and dropped from the registry
	evTold                       // a GET answered "1"
)

// next is the transition table: the phase ev leads to from from, and
// false when ev changes nothing there (an upgrade event on a closed
// session, a second end).
func next(from phase, ev event) (phase, bool) {
	if from.closed() {
		if from == phaseClosed && ev == evTold {
			return phaseClosedTold, true
		}
		return from, false
	}
	switch ev {
	case evProbeAnswered:
		if from == phaseOpen {
			return phaseUpgrading, true
		}
	case evProbeDropped:
		if from == phaseUpgrading {
			return phaseOpen, true
		}
	case evUpgraded:
		return phaseOpen, true
	case evEnd:
		return phaseClosed, true
	case evEndTold:
		return phaseClosedTold, true
	case evEndDrop:
		return phaseDropped, true
	}
	return from, false
}

// transitionLocked applies ev to the session, with c.mu held: the one
// place where phase and kind change. False means ev changed nothing.
func (c *Conn) transitionLocked(ev event) bool {
	to, ok := next(c.phase, ev)
	if !ok {
		return false
	}
	c.phase = to
	c.ended.Store(to.closed())
	if ev == evUpgraded {
		c.kind = kindWebSocket
	}
	return true
}

// writerState is the WebSocket writer goroutine's (writeLoop), guarded
// by c.mu. It is not a phase of the session: an open session's writer
// comes and goes with its queue, and a closed one's may still drain.
type writerState uint8

const (
	writerIdle    writerState = iota // no writer: the next Send starts one
	writerRunning                    // a writer drains the queue
	// writerDraining: the session closed with CloseAfterFlush; the writer
	// writes what is queued, then closes the socket (the socket is its).
	writerDraining
)
