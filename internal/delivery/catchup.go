package delivery

import (
	"encoding/json"
	"errors"
	"time"

	"go.uber.org/zap"
)

// Reasons a catch-up's read ends early.
var (
	errQueueFull = errors.New("queue full")
	errGone      = errors.New("recipient gone")
)

// catchUpRetry spaces out reads of a log that fails.
const catchUpRetry = 500 * time.Millisecond

func (d *Queues) startCatchUp(r *recipient) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.catchUp(r)
	}()
}

// catchUp reads r's events from the log until it has met the live
// stream (then r is live) or the queue is full (an ack restarts it).
func (d *Queues) catchUp(r *recipient) {
	for {
		to := d.Pos()
		r.mu.Lock()
		from, subjects, closed := r.last.Pos+1, r.subjects(), r.closed
		r.mu.Unlock()
		if closed {
			return
		}
		err := d.log.Read(d.ctx, subjects, from, to, func(pos uint64, subject string, data []byte) error {
			return d.readRecord(r, pos, subject, data)
		})
		var again bool
		if err != nil {
			again = d.readStopped(r, err)
		} else {
			again = !d.goLive(r, to)
		}
		if !again {
			return
		}
	}
}

// readRecord queues one record read from the log, if it is r's.
func (d *Queues) readRecord(r *recipient, pos uint64, subject string, data []byte) error {
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil || len(rec.Body) < 2 {
		d.zl.Error("undecodable record on the log", zap.Uint64("pos", pos), zap.String("subject", subject), zap.Error(err))
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return errGone
	case pos <= r.last.Pos || !r.accepts(pos, &rec):
		return nil
	case len(r.queue) >= d.cfg.QueueLimit:
		return errQueueFull
	}
	r.push(pos, &rec, true)
	r.pump()
	return nil
}

// readStopped handles a read that ended early; true means read again.
func (d *Queues) readStopped(r *recipient, err error) bool {
	switch {
	case errors.Is(err, errGone):
		return false
	case errors.Is(err, errQueueFull):
		// Acks may have drained it while the read stopped; they did not
		// start another catch-up, as this one ran.
		r.mu.Lock()
		defer r.mu.Unlock()
		again := !r.closed && len(r.queue) <= d.cfg.QueueLimit/2
		r.reading = again
		return again
	}
	if d.ctx.Err() != nil {
		return false
	}
	d.zl.Warn("catch up from the log; will retry", zap.String("tenant_id", r.id.Tenant), zap.Error(err))
	select {
	case <-d.ctx.Done():
		return false
	case <-time.After(catchUpRetry):
		return true
	}
}

// goLive hands r to the live stream once everything up to `to` is read,
// if nothing was routed since: the router then takes over from there with
// no gap and no overlap. false means records arrived meanwhile: read on.
func (d *Queues) goLive(r *recipient, to uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if d.pos != to {
		return false
	}
	r.live, r.reading = true, false
	if r.last.Pos < to {
		// Nothing of r's in (last, to]: later catch-ups start here.
		r.last.Pos = to
	}
	if len(r.queue) == 0 && r.cursor.Pos < to {
		// Everything of r's up to `to` is acknowledged: so the next
		// attach, anywhere, need not read it again.
		r.cursor.Pos = to
		d.cursors.put(r.id, r.cursor)
	}
	return true
}
