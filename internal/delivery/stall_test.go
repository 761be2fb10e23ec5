package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// stallObserver counts stall episodes begun and ended.
type stallObserver struct {
	mu             sync.Mutex
	begun, stopped int
}

func (*stallObserver) Delivered(string, bool)         {}
func (*stallObserver) Acked(time.Duration)            {}
func (*stallObserver) Published(time.Duration, error) {}

func (o *stallObserver) Stalled(begun bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if begun {
		o.begun++
	} else {
		o.stopped++
	}
}

func (o *stallObserver) counts() (begun, stopped int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.begun, o.stopped
}

const stallAfter = 40 * time.Millisecond

// stallNode is a node with a short StallAfter whose warnings are kept.
func stallNode(t *testing.T, window int) (*delivery.Queues, *memLog, *stallObserver, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.WarnLevel)
	obs := &stallObserver{}
	log := newMemLog()
	cfg := delivery.Config{Window: window, StallAfter: stallAfter, Observer: obs, Feeds: feeds}
	d := delivery.NewQueues(cfg, log, newMemRecipients(), zap.New(core))
	require.NoError(t, d.Start(context.Background()))
	t.Cleanup(func() { d.Close(context.Background()) })
	return d, log, obs, logs
}

// TestStalledRecipientIsReportedOncePerEpisode: a window full for
// StallAfter is one warning and one count until an ack moves it; the
// next full window is a new episode.
func TestStalledRecipientIsReportedOncePerEpisode(t *testing.T) {
	d, log, obs, logs := stallNode(t, 2)
	c, detach := attach(t, d, vendor1)
	for i := range 3 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	c.waitN(t, 2)
	require.Eventually(t, func() bool { b, _ := obs.counts(); return b == 1 }, 2*time.Second, time.Millisecond)
	time.Sleep(5 * stallAfter) // still stalled: no second report
	b, s := obs.counts()
	assert.Equal(t, [2]int{1, 0}, [2]int{b, s})
	assert.Equal(t, 1, d.Stats().Stalled)
	entries := logs.FilterMessageSnippet("stalled").AllUntimed()
	require.Len(t, entries, 1)
	fields := entries[0].ContextMap()
	assert.Equal(t, "acme", fields["tenant_id"])
	assert.Equal(t, "v1", fields["user_id"])
	assert.Equal(t, "order:status", fields["oldest_event"])
	assert.Equal(t, int64(3), fields["queued"])

	c.all()[0].ack() // the window moves: the episode ends; seq 3 fills it again
	c.waitN(t, 3)
	_, s = obs.counts()
	assert.Equal(t, 1, s)
	require.Eventually(t, func() bool { b, _ := obs.counts(); return b == 2 }, 2*time.Second, time.Millisecond, "a new episode")

	detach() // leaving ends it too: the gauge goes back to zero
	b, s = obs.counts()
	assert.Equal(t, [2]int{2, 2}, [2]int{b, s})
}

// TestRecipientThatAcksIsNeverStalled covers the ways a window moves: by
// acking every event, or only the newest of each window (cumulative), and
// a window never full.
func TestRecipientThatAcksIsNeverStalled(t *testing.T) {
	tests := []struct {
		name   string
		window int
		ack    func(ds []delivered)
	}{
		{name: "acks every event", window: 2, ack: ackAll},
		{name: "acks the newest only", window: 2, ack: func(ds []delivered) {
			if len(ds) > 0 {
				ds[len(ds)-1].ack()
			}
		}},
		{name: "window never full", window: 64, ack: func([]delivered) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, log, obs, logs := stallNode(t, tt.window)
			c, _ := attach(t, d, vendor1)
			const n = 10
			deadline := time.Now().Add(3 * stallAfter)
			for i := 0; i < n || time.Now().Before(deadline); i++ {
				if i < n {
					publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
				}
				time.Sleep(stallAfter / 8)
				tt.ack(c.all())
			}
			b, _ := obs.counts()
			assert.Zero(t, b)
			assert.Zero(t, logs.Len())
		})
	}
}
