package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	// readBatch is how many records a Read asks the server for at once.
	readBatch = 512
	// readInactive lets the server drop a Read's consumer that this process
	// could not delete (crash, lost connection).
	readInactive = 30 * time.Second
)

// Read calls handle, in stream order, for every stored record whose subject
// matches one of subjects (wildcards allowed) and whose position is in
// [from, to]. It returns nil once the last such record is handled, or at
// once when there is none; handle's error, or ctx's, ends it and is
// returned. A from below the stream's first sequence (expired records)
// starts at the first.
func (b *Broker) Read(ctx context.Context, subjects []string, from, to uint64, handle func(pos uint64, subject string, data []byte) error) error {
	if to == 0 || from > to || len(subjects) == 0 {
		return nil
	}
	from = max(from, 1)
	filters := minimalFilters(subjects)
	// The cursors are opened here, not in a helper that returns them: a
	// slice that stays in Read stays off the heap.
	var cursors []*rangeCursor
	defer func() {
		for _, c := range cursors {
			c.close()
		}
	}()
	// One consumer with all filters needs nats-server 2.10; older servers
	// get one consumer per subject, merged here by position.
	if len(filters) == 1 || !b.noMultiFilter.Load() {
		c, err := b.openCursor(ctx, filters, from, to)
		switch {
		case errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported):
			b.noMultiFilter.Store(true)
		case err != nil:
			return err
		default:
			cursors = append(cursors, c)
		}
	}
	if len(cursors) == 0 {
		for _, f := range filters {
			c, err := b.openCursor(ctx, []string{f}, from, to)
			if err != nil {
				return err
			}
			cursors = append(cursors, c)
		}
	}
	return readMerged(ctx, cursors, handle)
}

// readMerged calls handle for the cursors' records in position order, a
// record that several cursors hold once.
func readMerged(ctx context.Context, cursors []*rangeCursor, handle func(pos uint64, subject string, data []byte) error) error {
	for _, c := range cursors {
		if err := c.advance(ctx); err != nil {
			return err
		}
	}
	var last uint64
	for {
		next := earliest(cursors)
		if next == nil {
			return nil
		}
		// Partially overlapping filters (a.*.c, a.b.*) on separate
		// consumers both deliver a record that matches both.
		if next.pos != last {
			last = next.pos
			if err := handle(next.pos, next.head.Subject(), next.head.Data()); err != nil {
				return err
			}
		}
		if err := next.advance(ctx); err != nil {
			return err
		}
	}
}

// earliest returns the cursor whose head comes first, nil when all are
// done.
func earliest(cursors []*rangeCursor) *rangeCursor {
	var next *rangeCursor
	for _, c := range cursors {
		if c.head != nil && (next == nil || c.pos < next.pos) {
			next = c
		}
	}
	return next
}

// rangeCursor walks one ordered consumer's records up to a position. It
// knows it is done from the pending counts the server reports, so it never
// waits for records that do not exist.
type rangeCursor struct {
	b        *Broker
	cons     jetstream.Consumer
	it       jetstream.MessagesContext
	stopCtx  func() bool // unregisters the ctx watch that stops it
	to       uint64
	head     jetstream.Msg // current record; nil when done
	pos      uint64        // head's position
	finished bool          // no record after head is wanted
}

func (b *Broker) openCursor(ctx context.Context, filters []string, from, to uint64) (*rangeCursor, error) {
	var r [8]byte
	_, _ = rand.Read(r[:])
	prefix := "read_" + hex.EncodeToString(r[:])
	cons, err := b.js.OrderedConsumer(ctx, b.cfg.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects:    filters,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from,
		InactiveThreshold: readInactive,
		NamePrefix:        prefix,
	})
	if errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported) {
		// The old server created the consumer without filters: remove it.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = b.js.DeleteConsumer(dctx, b.cfg.Stream, prefix+"_1")
	}
	if err != nil {
		return nil, fmt.Errorf("create reader on %s: %w", b.cfg.Stream, err)
	}
	c := &rangeCursor{b: b, cons: cons, to: to}
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		c.finished = true
		return c, nil
	}
	if c.it, err = cons.Messages(jetstream.PullMaxMessages(readBatch)); err != nil {
		b.deleteConsumer(cons)
		return nil, fmt.Errorf("read %s: %w", b.cfg.Stream, err)
	}
	// Stopping the iterator also ends a consumer reset that retries while
	// the server is unreachable, which NextContext alone would not.
	c.stopCtx = context.AfterFunc(ctx, c.it.Stop)
	return c, nil
}

// advance moves head to the next record in range, or to nil when done.
func (c *rangeCursor) advance(ctx context.Context) error {
	c.head = nil
	if c.finished {
		return nil
	}
	// Next picks at random between a buffered record and a done ctx.
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := c.it.Next(jetstream.NextContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read %s: %w", c.b.cfg.Stream, err)
	}
	meta, err := m.Metadata()
	if err != nil {
		return fmt.Errorf("read %s: record metadata: %w", c.b.cfg.Stream, err)
	}
	pos := meta.Sequence.Stream
	if pos > c.to {
		c.finished = true
		return nil
	}
	c.head, c.pos = m, pos
	c.finished = meta.NumPending == 0 || pos == c.to
	return nil
}

func (c *rangeCursor) close() {
	if c.it != nil {
		c.stopCtx()
		c.it.Stop()
	}
	c.b.deleteConsumer(c.cons)
}
