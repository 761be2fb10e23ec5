package delivery

import (
	"time"

	"go.uber.org/zap"
)

// stallSweepEvery is how often the recipients are checked for a stall: a
// few times per StallAfter, so a stall is reported at most a quarter late,
// and at least every 5 s.
func stallSweepEvery(after time.Duration) time.Duration {
	return min(max(after/4, time.Millisecond), 5*time.Second)
}

// sweepStalls reports every recipient whose window has been full for
// StallAfter at now and is not reported yet. It takes each recipient's
// lock briefly, a few times per StallAfter.
func (d *Queues) sweepStalls(now time.Time) {
	d.mu.Lock()
	rs := make([]*recipient, 0, len(d.byID))
	for _, r := range d.byID {
		rs = append(rs, r)
	}
	d.mu.Unlock()
	for _, r := range rs {
		r.checkStall(now)
	}
}

// checkStall reports r once per stall episode: its window full, with no
// ack moving it, for StallAfter. The usual cause is a client that acks
// none of the events it is sent (it handles none of them).
func (r *recipient) checkStall(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.stalled || r.fullSince.IsZero() || now.Sub(r.fullSince) < r.d.cfg.StallAfter || len(r.queue) == 0 {
		return
	}
	r.stalled = true
	r.d.cfg.Observer.Stalled(true)
	r.d.zl.Warn("recipient stalled: its window is full and no ack comes back",
		zap.String("tenant_id", r.id.Tenant), zap.String("role", r.id.Role), zap.String("user_id", r.id.User),
		zap.String("oldest_event", r.queue[0].event), zap.Uint64("oldest_seq", r.queue[0].seq),
		zap.Int("queued", len(r.queue)), zap.Int("in_flight", r.sent), zap.Bool("live", r.live),
		zap.Duration("full_for", now.Sub(r.fullSince)))
}

// unstall ends a stall episode: the window moved, or the recipient left.
// Called with r.mu held.
func (r *recipient) unstall() {
	r.fullSince = time.Time{}
	r.stopProbing()
	if r.stalled {
		r.stalled = false
		r.d.cfg.Observer.Stalled(false)
	}
}
