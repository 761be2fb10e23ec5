package webhooks_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// countingLog counts the log reads the workers open.
type countingLog struct {
	*broker.Broker
	reads atomic.Int64
}

func (l *countingLog) Read(ctx context.Context, subjects []string, from, to uint64, handle func(pos uint64, subject string, data []byte) error) error {
	l.reads.Add(1)
	return l.Broker.Read(ctx, subjects, from, to, handle)
}

// TestOtherTrafficOpensNoReads: endpoints whose vendors have no new
// records open no reads of the log while other vendors' orders flow;
// the endpoint whose vendor does gets its messages. Before, every
// endpoint's worker read the log every poll whenever anything of any
// tenant had arrived (20 endpoints: hundreds of reads here).
func TestOtherTrafficOpensNoReads(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	log := &countingLog{Broker: e.br}
	s := webhooks.New(testConfig(), log, e.st, e.log.Named("webhooks"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	idle := newReceiver(t, nil)
	for i := range 20 {
		_, err := s.Create(context.Background(), webhooks.Owner{Tenant: "acme", VendorID: fmt.Sprintf("v%d", i)}, idle.srv.URL, webhooks.Types())
		require.NoError(t, err)
	}
	waitFor(t, 5*time.Second, "the endpoints leased", func() bool { return s.Stats().Endpoints == 20 })
	time.Sleep(200 * time.Millisecond) // past the reads of their first polls
	base := log.reads.Load()

	for range 10 {
		e.order(t, "acme", "someone-else", orders.Delivered)
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // six polls of 50 ms
	require.Zero(t, idle.requests(), "no endpoint hears another vendor's orders")
	other := log.reads.Load() - base
	require.LessOrEqual(t, other, int64(20), "reads opened for other vendors' traffic (one per endpoint at most, a follower lagging)")
	t.Logf("log reads by 20 idle endpoints during 10 orders of another vendor: %d", other)

	busy := newReceiver(t, nil)
	register(t, &sink{Sink: s}, busy, "acme", "vb")
	waitFor(t, 5*time.Second, "the new endpoint leased", func() bool { return s.Stats().Endpoints == 21 })
	id := e.order(t, "acme", "vb", orders.Delivered)
	waitFor(t, 10*time.Second, "the busy endpoint's messages", func() bool {
		got, _ := firstSeen(t, busy.received())
		return len(got[id]) == len(expectedTypes(orders.Delivered))
	})
}
