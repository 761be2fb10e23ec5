package webhooks

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// laneBuffer is how many records may wait on one lane: the read-ahead.
// A lane that is full (its receiver retrying) stops the reading, so the
// endpoint's other lanes get at most this far ahead.
const laneBuffer = 64

// job is one record's messages for one endpoint.
type job struct {
	pos  uint64
	at   time.Time
	msgs []message
}

// worker delivers one endpoint's messages while this node holds its
// lease. Goroutines: run (the reader), one per lane, and the flusher;
// stop cancels them and waits.
type worker struct {
	s     *Sink
	ep    Endpoint
	track *tracker
	wake  chan struct{}
	poked atomic.Uint64 // the last position the follower woke it for
	// watchFrom: the follower's watermark when the worker was registered
	// (set before run starts); it was poked for nothing up to there.
	watchFrom uint64
	prefix    string // subject prefix of the endpoint's records
	cancel    context.CancelFunc
	done      chan struct{}
	// sent are the messages past the stored cursor delivered before this
	// worker started (read-only once run starts): not sent again.
	sent map[string]bool

	mu           sync.Mutex
	failingSince *time.Time
	disabled     bool
}

func newWorker(s *Sink, ep Endpoint) *worker {
	key := ep.VendorID
	if key == "" {
		key = "*"
	}
	return &worker{s: s, ep: ep, track: newTracker(ep.Pos), wake: make(chan struct{}, 1),
		prefix: s.log.EventSubject(ep.Tenant, delivery.FeedVendor, key), failingSince: ep.FailingSince,
		done: make(chan struct{})}
}

// subjects are the endpoint's records in the log.
func (w *worker) subjects() []string { return []string{w.prefix} }

// concerns reports whether a record on subject is the endpoint's.
func (w *worker) concerns(subject string) bool {
	if w.ep.VendorID != "" {
		return subject == w.prefix
	}
	p := w.prefix[:len(w.prefix)-1] // "...v.*" → "...v."
	return len(subject) > len(p) && subject[:len(p)] == p
}

// poke wakes the reader for a record at pos; it never blocks.
func (w *worker) poke(pos uint64) {
	if pos > w.poked.Load() {
		w.poked.Store(pos) // only the follower's goroutine stores
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	go func() {
		defer close(w.done)
		w.run(ctx)
	}()
}

func (w *worker) stop() {
	w.cancel()
	<-w.done
}

// run reads the endpoint's records from its cursor on, hands them to the
// lanes, and returns when ctx ends (stop, or the endpoint disabled).
func (w *worker) run(ctx context.Context) {
	sent, err := w.s.store.DeliveredWebhookMessages(ctx, w.ep.ID, w.ep.Pos)
	if err != nil && ctx.Err() == nil {
		// Only costs duplicates, which receivers must expect anyway.
		w.s.lg.Warn("load delivered webhook messages", zap.String("webhook", w.ep.ID), zap.Error(err))
	}
	w.sent = sent
	lanes := make([]chan job, w.s.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan job, laneBuffer)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.lane(ctx, lanes[i])
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.flushLoop(ctx)
	}()
	tick := time.NewTicker(w.s.cfg.Poll)
	defer tick.Stop()
	failing := false // the log unreadable: logged once, not every poll
	for {
		err := w.readNew(ctx, lanes)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			w.s.lg.Warn("read webhook records (retrying every poll)", zap.String("webhook", w.ep.ID), zap.Error(err))
		case err == nil && failing:
			failing = false
			w.s.lg.Info("reading webhook records again", zap.String("webhook", w.ep.ID))
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-w.wake:
		case <-tick.C:
		}
	}
}

// readNew hands every record stored since the last read to its lane.
func (w *worker) readNew(ctx context.Context, lanes []chan job) error {
	first, last, err := w.s.log.Bounds(ctx)
	if err != nil {
		return err
	}
	from := w.track.next()
	if quiet := w.s.quietUpTo(w, from); quiet >= from {
		// The follower saw every record up to quiet and none was this
		// endpoint's: no read of the log for other tenants' traffic.
		w.track.skip(quiet)
		return nil
	}
	if from < first {
		// The worker was away longer than the stream keeps records
		// (an endpoint unleased, every node down): what was stored in
		// between is gone, some of it maybe this endpoint's.
		w.s.lg.Warn("webhook records expired before they were read", zap.String("webhook", w.ep.ID),
			zap.String("tenant", w.ep.Tenant), zap.Uint64("from", from), zap.Uint64("first_stored", first))
		w.s.cfg.Observer.WebhookGap(first - from)
		w.track.skip(first - 1)
		from = first
	}
	if last < from {
		return nil
	}
	err = w.s.log.Read(ctx, w.subjects(), from, last, func(pos uint64, _ string, data []byte) error {
		var rec delivery.Record
		var msgs []message
		err := json.Unmarshal(data, &rec)
		if err == nil {
			msgs, err = messages(rec)
		}
		if err != nil {
			// Nothing to send can be made of it, now or later.
			w.s.lg.Error("undecodable record skipped", zap.String("webhook", w.ep.ID), zap.Uint64("pos", pos), zap.Error(err))
		}
		msgs = w.wanted(msgs)
		if len(msgs) == 0 {
			w.track.skip(pos)
			return nil
		}
		at := time.Now()
		var f recordFields
		if json.Unmarshal(rec.Body, &f) == nil && !f.At.IsZero() {
			at = f.At
		}
		w.track.push(pos, at)
		select {
		case lanes[laneOf(rec.OrderID, len(lanes))] <- job{pos: pos, at: at, msgs: msgs}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return err
	}
	w.track.skip(last)
	return nil
}

// wanted keeps the messages of the types the endpoint subscribed to
// that were not delivered already.
func (w *worker) wanted(msgs []message) []message {
	out := msgs[:0]
	for _, m := range msgs {
		if w.ep.wants(m.Type) && !w.sent[m.ID] {
			out = append(out, m)
		}
	}
	return out
}

// laneOf puts every record of one order on the same lane.
func laneOf(orderID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(orderID))
	return int(h.Sum32() % uint32(n))
}

// lane delivers its jobs one after the other, each message until it is
// delivered or given up.
func (w *worker) lane(ctx context.Context, jobs <-chan job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			for _, m := range j.msgs {
				if !w.deliver(ctx, j.pos, m) {
					return
				}
			}
			w.track.finish(j.pos)
		}
	}
}

// flushLoop stores the cursor and the failing state when they change,
// every Poll and once more at the end.
func (w *worker) flushLoop(ctx context.Context) {
	tick := time.NewTicker(w.s.cfg.Poll)
	defer tick.Stop()
	saved, savedFailing := w.ep.Pos, w.failing()
	flush := func(ctx context.Context) {
		pos, _, _ := w.track.cursor()
		failing := w.failing()
		if pos == saved && equalTime(failing, savedFailing) {
			return
		}
		if err := w.s.store.SaveWebhookState(ctx, w.ep.ID, pos, failing); err != nil {
			w.s.lg.Warn("save webhook cursor", zap.String("webhook", w.ep.ID), zap.Error(err))
			return
		}
		saved, savedFailing = pos, failing
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			flush(fctx)
			cancel()
			return
		case <-tick.C:
			flush(ctx)
		}
	}
}

func (w *worker) failing() *time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failingSince
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
