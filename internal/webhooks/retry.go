package webhooks

import (
	"cmp"
	"context"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
)

// maxErrorLen bounds a stored error message.
const maxErrorLen = 500

// recordTimeout bounds writing one attempt to the delivery log.
const recordTimeout = 5 * time.Second

// deliver sends m until a 2xx comes (true), retrying with backoff. It
// gives m up after retention from its first attempt (true: the cursor
// moves past it); it returns false when ctx ends or the endpoint is
// disabled, leaving m to whoever resumes from the cursor.
func (w *worker) deliver(ctx context.Context, pos uint64, m message) bool {
	d := Delivery{ID: newID(), EndpointID: w.ep.ID, MsgID: m.ID, Type: m.Type, OrderID: m.OrderID, Pos: pos,
		Payload: m.Body}
	var first time.Time // of the first attempt, stored: maybe before a restart
	for n := 0; ; n++ {
		now := time.Now()
		r := w.s.sender.send(ctx, &w.ep, m.ID, m.Body, now)
		if ctx.Err() != nil {
			return false // stopping: this attempt does not count
		}
		a := Attempt{Delivery: d, HTTP: r.status, At: now}
		if r.err == nil {
			a.Status = DeliverySucceeded
			w.record(ctx, a)
			w.succeeded()
			w.s.cfg.Observer.WebhookMessage(ResultDelivered)
			return true
		}
		a.Err = errText(r.err)
		if r.kind() == ResultRefused {
			w.s.lg.Warn("webhook destination refused", zap.String("webhook", w.ep.ID),
				zap.String("tenant", w.ep.Tenant), zap.Error(r.err))
		}
		if since := w.failed(now); now.Sub(since) >= w.s.cfg.DisableAfter {
			a.Status = DeliveryFailed
			w.record(ctx, a)
			w.disable(ctx, now, since)
			return false
		}
		if !first.IsZero() && now.Sub(first) >= w.s.cfg.Retention {
			a.Status = DeliveryFailed
			stored := w.record(ctx, a)
			w.s.cfg.Observer.WebhookMessage(ResultExpired)
			w.s.lg.Warn("webhook message given up after retention", zap.String("webhook", w.ep.ID),
				zap.String("msg", m.ID), zap.Int("attempts", stored.Attempts))
			return true
		}
		wait := backoff(n, w.s.cfg.RetryMin, w.s.cfg.RetryMax)
		next := now.Add(wait)
		a.Status, a.Next = DeliveryPending, &next
		stored := w.record(ctx, a)
		if first.IsZero() {
			first = cmp.Or(stored.CreatedAt, now)
		}
		if done, ok := w.await(ctx, stored, wait); done {
			return ok
		}
	}
}

// await waits out a backoff after a failed attempt stored as stored. It
// is done (with deliver's result) when ctx ends, or when a manual retry
// got the message through meanwhile: sending it once more would be a
// duplicate.
func (w *worker) await(ctx context.Context, stored Delivery, wait time.Duration) (done, ok bool) {
	if stored.Status == DeliverySucceeded || (sleep(ctx, wait) && w.deliveredMeanwhile(ctx, stored.ID)) {
		w.succeeded()
		return true, true
	}
	if ctx.Err() != nil {
		return true, false
	}
	return false, false
}

// deliveredMeanwhile reports whether a manual retry delivered the message
// while this lane waited to try again: sending it once more would be a
// duplicate. Unknown (no id, a read error): false, and the lane sends.
func (w *worker) deliveredMeanwhile(ctx context.Context, deliveryID string) bool {
	if deliveryID == "" {
		return false
	}
	d, err := w.s.store.WebhookDelivery(ctx, w.ep.ID, deliveryID)
	return err == nil && d.Status == DeliverySucceeded
}

// record stores an attempt; the delivery log is for the tenant's eyes, so
// a failure to write it does not stop the delivery. It outlives a stop
// that comes meanwhile: a success recorded is not sent again after a
// restart.
func (w *worker) record(ctx context.Context, a Attempt) Delivery {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	d, err := w.s.store.RecordWebhookAttempt(ctx, a)
	if err != nil {
		w.s.lg.Warn("record webhook attempt", zap.String("webhook", w.ep.ID), zap.Error(err))
	}
	return d
}

// succeeded ends a failing period.
func (w *worker) succeeded() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failingSince = nil
}

// failed starts a failing period if none runs and returns its start.
func (w *worker) failed(now time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failingSince == nil {
		t := now
		w.failingSince = &t
	}
	return *w.failingSince
}

// isDisabled reports whether the worker stopped itself by disabling its
// endpoint.
func (w *worker) isDisabled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.disabled
}

// disable stops the endpoint until it is enabled again, once, whichever lane gets there
// first: stored, logged and counted, and the worker stopped.
func (w *worker) disable(ctx context.Context, now, since time.Time) {
	w.mu.Lock()
	first := !w.disabled
	w.disabled = true
	w.mu.Unlock()
	if !first {
		return
	}
	reason := "every attempt failed since " + since.UTC().Format(time.RFC3339) +
		" (webhooks.disable_after " + w.s.cfg.DisableAfter.String() + ")"
	if err := w.s.store.DisableWebhook(ctx, w.ep.ID, now, reason); err != nil {
		w.s.lg.Error("disable webhook", zap.String("webhook", w.ep.ID), zap.Error(err))
	}
	w.s.lg.Warn("webhook disabled", zap.String("webhook", w.ep.ID), zap.String("tenant", w.ep.Tenant),
		zap.String("url", w.ep.URL), zap.String("reason", reason))
	w.s.cfg.Observer.WebhookDisabled()
	w.s.notifyDisabled(ctx, w.ep, now, reason)
	w.cancel()
}

// backoff is the wait after the n-th failed attempt (from 0): min·2ⁿ up to
// max, with jitter in its upper half, so receivers that fail together are
// not retried in lockstep.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2 // doubling stops at hi, long before it could overflow
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func errText(err error) string {
	s := err.Error()
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen]
	}
	return s
}

// newID makes a delivery or endpoint id: a UUIDv7, sortable by time.
func newID() string { return uuid.Must(uuid.NewV7()).String() }
