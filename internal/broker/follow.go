package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// followBatch is how many records the live follower asks for at once.
const followBatch = 512

// LastPos returns the stream's last sequence, 0 when nothing was ever
// stored. It does not go down when old records expire, so it is a valid
// starting point for Follow.
func (b *Broker) LastPos(ctx context.Context) (uint64, error) {
	_, last, err := b.Bounds(ctx)
	return last, err
}

// Bounds returns the stream's oldest and newest stored sequence in one
// call: a reader whose next position is below first lost the records
// between to the stream's max age. An empty stream has first = last + 1.
func (b *Broker) Bounds(ctx context.Context) (first, last uint64, err error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("stream %s info: %w", b.cfg.Stream, err)
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// Follow delivers every feed record stored with a sequence above after to
// handle, in stream order, live, until stop is called. handle runs on one
// goroutine owned by Follow, never concurrently, and sees strictly
// increasing positions; it must not call stop. stop waits until handle has
// returned and is idempotent. ctx bounds only the setup; call stop before
// closing the broker.
//
// The ordered consumer behind it recreates itself after a reconnect or a
// server restart, resuming after the last record it handed out, so nothing
// is skipped; Follow also drops any position it already delivered.
func (b *Broker) Follow(ctx context.Context, after uint64, handle func(pos uint64, subject string, data []byte)) (stop func(), err error) {
	cons, err := b.js.OrderedConsumer(ctx, b.cfg.Stream, jetstream.OrderedConsumerConfig{
		// Records stored before the stream was narrowed to Prefix.ev.> may
		// still be there (e.g. positions); they are not feed records.
		FilterSubjects: []string{b.EventSubject(">")},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("create follower on %s: %w", b.cfg.Stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(followBatch))
	if err != nil {
		b.deleteConsumer(cons)
		return nil, fmt.Errorf("follow %s: %w", b.cfg.Stream, err)
	}
	// stopCtx also ends a Next that a concurrent reconnect moved to a new
	// inner subscription after it.Stop.
	stopCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.follow(stopCtx, it, after, handle)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			it.Stop()
			<-done
			b.deleteConsumer(cons)
		})
	}, nil
}

// follow is Follow's goroutine: it returns when ctx ends or the iterator is
// closed (stop, or the connection closed).
func (b *Broker) follow(ctx context.Context, it jetstream.MessagesContext, last uint64, handle func(pos uint64, subject string, data []byte)) {
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		switch {
		case ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed):
			return
		case err != nil:
			// The iterator resets itself on the next call; pause so a
			// persistent fault does not spin.
			b.log.Warn("follow stream", zap.Error(err))
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		meta, err := m.Metadata()
		if err != nil {
			b.log.Error("follow stream: record without metadata", zap.Error(err))
			continue
		}
		pos := meta.Sequence.Stream
		if pos <= last {
			continue
		}
		last = pos
		handle(pos, m.Subject(), m.Data())
	}
}

// deleteConsumer removes an ordered consumer now instead of leaving it to
// the server's inactivity timer.
func (b *Broker) deleteConsumer(cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil || b.nc.IsClosed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := b.js.DeleteConsumer(ctx, b.cfg.Stream, info.Name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		b.log.Debug("delete consumer", zap.String("consumer", info.Name), zap.Error(err))
	}
}
