package main

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// How often, and how long after, old rows are deleted: sent outbox rows
// are kept an hour (to see what was relayed when), ended subscriptions
// as long as the events they could still select (the retention).
const (
	housekeepingEvery = 10 * time.Minute
	outboxKeep        = time.Hour
)

// purger deletes rows nothing reads any more.
type purger interface {
	PurgeOutbox(ctx context.Context, before time.Time) (int64, error)
	PurgeSubscriptions(ctx context.Context, before time.Time) (int64, error)
}

// housekeep purges old rows every interval until ctx ends. Every node
// runs it; the deletes are idempotent.
func housekeep(ctx context.Context, p purger, every, retention time.Duration, log *zap.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if n, err := p.PurgeOutbox(ctx, now.Add(-outboxKeep)); err != nil {
			log.Warn("purge outbox", zap.Error(err))
		} else if n > 0 {
			log.Info("purged outbox", zap.Int64("rows", n))
		}
		if n, err := p.PurgeSubscriptions(ctx, now.Add(-retention)); err != nil {
			log.Warn("purge subscriptions", zap.Error(err))
		} else if n > 0 {
			log.Info("purged subscriptions", zap.Int64("rows", n))
		}
	}
}
