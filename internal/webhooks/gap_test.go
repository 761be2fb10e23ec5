package webhooks_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// gapObserver counts what WebhookGap reports.
type gapObserver struct{ unread atomic.Uint64 }

func (*gapObserver) WebhookAttempt(string, time.Duration) {}
func (*gapObserver) WebhookMessage(string)                {}
func (*gapObserver) WebhookDisabled()                     {}
func (o *gapObserver) WebhookGap(n uint64)                { o.unread.Add(n) }

// TestExpiredBeforeRead: records that expire from the stream while no node
// runs an endpoint's worker are reported (a warning and a count of the
// positions never read), and the worker goes on from the oldest record
// still stored. It skipped them without a word before.
func TestExpiredBeforeRead(t *testing.T) {
	e := newEnvBroker(t, backends(t)["sqlite"](t), broker.Config{DataDir: t.TempDir(),
		Retention: time.Second, DuplicateWindow: 500 * time.Millisecond})
	obs := &gapObserver{}
	cfg := testConfig()
	cfg.Observer = obs
	s := e.start(t, cfg)
	r := newReceiver(t, nil)
	register(t, s, r, "acme", "v1", "order.created")
	s.stop() // nobody reads from here on

	lost := e.order(t, "acme", "v1", orders.Cancelled)
	var stored uint64 // every position written, all of them expired
	waitFor(t, 15*time.Second, "the records expired", func() bool {
		first, last, err := e.br.Bounds(context.Background())
		require.NoError(t, err)
		stored = last
		return last > 0 && first > last
	})
	s2 := e.start(t, cfg)
	waitFor(t, 10*time.Second, "the gap reported", func() bool { return obs.unread.Load() > 0 })
	kept := e.order(t, "acme", "v1", orders.Cancelled)
	waitFor(t, 10*time.Second, "the next order's message", func() bool { return distinct(r) == 1 })
	got, _ := firstSeen(t, r.received())
	require.Contains(t, got, kept)
	require.NotContains(t, got, lost)
	require.Equal(t, stored, obs.unread.Load(), "every position written while nobody read (the lost order's records on all feeds)")
	s2.stop()
}
