package delivery

import (
	"context"
	"slices"
	"time"

	"go.uber.org/zap"
)

// OutboxEntry is a committed change waiting to be published.
type OutboxEntry struct {
	Seq     int64
	Tenant  string
	OrderID string
	EventID string
	Payload []byte // the change, as the caller's Fanout reads it
}

// Outbox is the store's queue of committed changes.
type Outbox interface {
	PendingOutbox(ctx context.Context, limit int) ([]OutboxEntry, error)
	MarkSent(ctx context.Context, seqs []int64, now time.Time) error
}

// LogMessage is one record to store on the durable log.
type LogMessage struct {
	Subject string
	ID      string // deduplicates a retried publish
	Data    []byte
}

// PublishResult is one LogMessage's outcome.
type PublishResult struct {
	Pos       uint64
	Duplicate bool
	Err       error
}

// Publisher stores records on the durable log.
type Publisher interface {
	EventSubject(tokens ...string) string
	// PublishBatch stores msgs pipelined, in the order given; one
	// message's failure does not stop the others.
	PublishBatch(ctx context.Context, msgs []LogMessage) []PublishResult
}

// Fanout renders one committed change (an outbox entry's payload) into
// the records it causes, with the time it happened: who hears of what.
// The rules are the caller's; an error skips the change for good.
type Fanout func(payload []byte) (recs []Record, at time.Time, err error)

// Relay moves the store's outbox to the log, each change rendered into
// its feed records (restart-safe: a row is marked sent only after the log
// stored all of its records, and a re-publish is deduplicated by message
// id). Every node follows the log (Queues) and delivers to its own sockets.
type Relay struct {
	outbox Outbox
	log    Publisher
	fanout Fanout
	zl     *zap.Logger
	wake   chan struct{}
	obs    Observer

	// The relay's mark of its last round, still running while the next
	// round publishes (one at a time); only the relay goroutine touches
	// these.
	marking  map[int64]bool // seqs published, not yet marked sent
	markDone chan error     // nil when no mark is running
}

// NewRelay returns a relay of outbox to log; start it with Run. Of cfg
// it uses only the Observer, which hears every publish.
func NewRelay(cfg Config, outbox Outbox, log Publisher, fanout Fanout, zl *zap.Logger) *Relay {
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	return &Relay{outbox: outbox, log: log, fanout: fanout, zl: zl, wake: make(chan struct{}, 1), obs: obs,
		marking: make(map[int64]bool)}
}

// Wake makes the relay read the outbox now rather than at its next poll:
// a change was just committed to it. It never blocks.
func (c *Relay) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// relayBatch bounds one read of the outbox; relayPoll is how often it is
// read when nothing wakes the relay (other nodes' writes, retries).
const (
	relayBatch = 256
	relayPoll  = time.Second
)

// Run relays the outbox until ctx ends, then drains what is left.
func (c *Relay) Run(ctx context.Context) {
	t := time.NewTicker(relayPoll)
	defer t.Stop()
	for {
		for c.relayOnce(ctx) {
		}
		c.awaitMark()
		select {
		case <-ctx.Done():
			c.drain(context.WithoutCancel(ctx))
			return
		case <-c.wake:
		case <-t.C:
		}
	}
}

// drainTimeout bounds the last relay at shutdown.
const drainTimeout = 5 * time.Second

// drain relays what is still in the outbox when the node stops, so that
// changes it committed reach the log now rather than when some node next
// relays (another node, or this one after a restart, would: nothing is
// lost either way).
func (c *Relay) drain(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	for c.relayOnce(ctx) {
	}
	c.awaitMark()
}

// relayOnce publishes one batch of the outbox; true means more may be
// waiting. The batch takes at most one change per order (the next waits
// for the next round, so one order's changes reach the log in order), and
// is published in waves, pipelined: a change's records for different feeds
// go in the same wave, and a record goes a wave after an earlier record of
// the change on the same feed (a vendor's order:status before its
// order:delivered), so that what one recipient receives keeps its order
// even when a publish fails. A change is marked sent once all of its
// records are stored; one that failed is published again whole (its
// stored records are dropped as duplicates).
func (c *Relay) relayOnce(ctx context.Context) bool {
	entries, err := c.outbox.PendingOutbox(ctx, relayBatch)
	if err != nil {
		if ctx.Err() == nil {
			c.zl.Error("read outbox", zap.Error(err))
		}
		return false
	}
	// Changes published last round are stored even if their mark has
	// not landed yet: the order's next change may go now.
	entries = slices.DeleteFunc(entries, func(e OutboxEntry) bool { return c.marking[e.Seq] })
	jobs, deferred := c.render(entries)
	failed := c.publishWaves(ctx, jobs)
	sent := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		if j.ok {
			sent = append(sent, j.entry.Seq)
		}
	}
	markFailed := c.awaitMark() != nil
	c.startMark(ctx, sent)
	return !failed && !markFailed && (deferred || len(entries) == relayBatch)
}

// startMark marks seqs sent in the background, so that the next round's
// publish overlaps this write: the relay is one loop, and waiting for
// the mark's commit was a fifth of every round under load.
func (c *Relay) startMark(ctx context.Context, seqs []int64) {
	if len(seqs) == 0 {
		return
	}
	for _, q := range seqs {
		c.marking[q] = true
	}
	done := make(chan error, 1)
	c.markDone = done
	go func() { done <- c.outbox.MarkSent(context.WithoutCancel(ctx), seqs, time.Now()) }()
}

// awaitMark waits for the running mark, if any, and returns its error.
func (c *Relay) awaitMark() error {
	if c.markDone == nil {
		return nil
	}
	err := <-c.markDone
	if err != nil {
		// Published but not marked: the next round republishes them and
		// the broker drops the duplicates.
		c.zl.Error("mark outbox sent", zap.Error(err))
	}
	clear(c.marking)
	c.markDone = nil
	return err
}
