package main

import (
	"context"

	"go.uber.org/zap"
)

// lifecycle stops the app's parts in the reverse of the order they were
// started, so each part outlives the parts that use it.
type lifecycle struct {
	log   *zap.Logger
	stops []func()
}

// onStop registers stop to run at shutdown, before the stops registered
// earlier.
func (l *lifecycle) onStop(stop func()) { l.stops = append(l.stops, stop) }

// run starts a long-running part in its own goroutine. Its context ends
// when the part's turn comes at shutdown, not with ctx: the app stops its
// parts in order, and waits for this one before the next.
func (l *lifecycle) run(ctx context.Context, name string, run func(context.Context) error) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := run(rctx); err != nil {
			l.log.Error(name+" stopped", zap.Error(err))
		}
	}()
	l.onStop(func() {
		cancel()
		<-done
	})
}

// stop runs the registered stops, last first. It is safe to call twice.
func (l *lifecycle) stop() {
	for i := len(l.stops) - 1; i >= 0; i-- {
		l.stops[i]()
	}
	l.stops = nil
}
