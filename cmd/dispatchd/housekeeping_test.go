package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

type fakePurger struct {
	mu           sync.Mutex
	outbox, subs []time.Time
}

func (f *fakePurger) PurgeOutbox(_ context.Context, before time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outbox = append(f.outbox, before)
	return 1, nil
}

func (f *fakePurger) PurgeSubscriptions(_ context.Context, before time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, before)
	return 0, nil
}

func TestHousekeepPurgesWithTheirCutoffs(t *testing.T) {
	p := &fakePurger{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		housekeep(ctx, p, time.Millisecond, 24*time.Hour, zaptest.NewLogger(t))
	}()
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.subs) >= 2
	}, 2*time.Second, time.Millisecond)
	cancel()
	<-done
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.WithinDuration(t, time.Now().Add(-outboxKeep), p.outbox[0], time.Minute)
	assert.WithinDuration(t, time.Now().Add(-24*time.Hour), p.subs[0], time.Minute)
}
