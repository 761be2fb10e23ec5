package delivery

import "time"

// Observer hears what delivery does, for metrics. Calls are made on hot
// paths: they must be cheap and must not block.
type Observer interface {
	// Delivered: an event went out to one socket of a recipient; replay
	// tells that it came from a catch-up (a reconnect or a recipient
	// that had fallen behind) rather than the live stream.
	Delivered(event string, replay bool)
	// Acked: a recipient acknowledged an event after wait.
	Acked(wait time.Duration)
	// Published: the relay stored one record on the log (err nil) or
	// failed to, after d.
	Published(d time.Duration, err error)
	// Stalled: a recipient's window has stayed full for Config.StallAfter
	// (begun true), or a stalled recipient moved again or left (false);
	// one call of each per stall episode.
	Stalled(begun bool)
}

// nopObserver is the default: nothing observed.
type nopObserver struct{}

func (nopObserver) Delivered(string, bool)         {}
func (nopObserver) Acked(time.Duration)            {}
func (nopObserver) Published(time.Duration, error) {}
func (nopObserver) Stalled(bool)                   {}

// Stats is a snapshot of this node's queues.
type Stats struct {
	Recipients int // with a socket on this node
	Tenants    int // distinct tenants of those
	Queued     int // events held, acknowledged or not
	InFlight   int // sent and not yet acknowledged
	Behind     int // recipients reading from the log, not live
	Stalled    int // recipients whose window is full for StallAfter
}

// Stats counts this node's recipients and their queues; it takes every
// recipient's lock briefly, so call it at scrape time, not per event.
func (d *Queues) Stats() Stats {
	d.mu.Lock()
	rs := make([]*recipient, 0, len(d.byID))
	tenants := make(map[string]struct{})
	for id, r := range d.byID {
		rs = append(rs, r)
		tenants[id.Tenant] = struct{}{}
	}
	d.mu.Unlock()
	st := Stats{Recipients: len(rs), Tenants: len(tenants)}
	for _, r := range rs {
		r.mu.Lock()
		st.Queued += len(r.queue)
		st.InFlight += r.sent
		if !r.live {
			st.Behind++
		}
		if r.stalled {
			st.Stalled++
		}
		r.mu.Unlock()
	}
	return st
}
