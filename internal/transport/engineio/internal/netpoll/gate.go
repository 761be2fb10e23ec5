package netpoll

import "sync/atomic"

// Gate gives a socket at most one reader and remembers readiness that
// arrives while that reader runs. The poller registers sockets
// edge-triggered, so each batch of arriving bytes is reported once: an
// event that finds a reader busy must not be dropped, or bytes that came
// after the reader's last read would wait for the next batch (an ack
// would wait for the client's next packet, which may never come).
type Gate struct{ state atomic.Int32 }

const (
	gateIdle  int32 = iota // no reader
	gateBusy               // a reader runs
	gateAgain              // a reader runs and bytes arrived since it started its last read
)

// Hold makes the caller the socket's reader, whatever the state; only for
// a socket no event can reach yet (not registered).
func (g *Gate) Hold() { g.state.Store(gateBusy) }

// Start is called for each readiness event. It returns true when the
// caller must start a reader; otherwise the running reader is told to
// read again.
func (g *Gate) Start() bool {
	for {
		switch g.state.Load() {
		case gateIdle:
			if g.state.CompareAndSwap(gateIdle, gateBusy) {
				return true
			}
		case gateBusy:
			if g.state.CompareAndSwap(gateBusy, gateAgain) {
				return false
			}
		default:
			return false
		}
	}
}

// Stop is called by the reader once a read found no more bytes. It
// returns true when the reader may leave; false when an event came since
// its last read began: it stays the reader and must read again.
func (g *Gate) Stop() bool {
	if g.state.CompareAndSwap(gateBusy, gateIdle) {
		return true
	}
	// gateAgain: only Start changes the state besides the reader, and
	// never from gateAgain.
	g.state.Store(gateBusy)
	return false
}
