package dispatch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/broker"
)

// TestStatsGatherAsksEveryNode: two nodes on one NATS each answer for
// their own part of the asked tenant, and the asker merges both; another
// tenant's question gets no one's acme numbers.
func TestStatsGatherAsksEveryNode(t *testing.T) {
	log := zaptest.NewLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	br, err := broker.Open(ctx, broker.Config{DataDir: t.TempDir()}, log)
	require.NoError(t, err)
	var counted atomic.Int32 // views computed, on either node
	view := func(node string, sockets int, since time.Time) func(string) NodeStats {
		return func(tenant string) NodeStats {
			counted.Add(1)
			if tenant != "acme" {
				return NodeStats{Node: node, Delivery: BoardDeliveryView{Stalled: []BoardStalledEntry{}}}
			}
			return NodeStats{Node: node, Sockets: sockets, Delivery: BoardDeliveryView{Recipients: sockets, Queued: 10, InFlight: 4,
				Stalled: []BoardStalledEntry{{Node: node, Role: "vendor", UserID: "v-" + node, Since: since}}}}
		}
	}
	now := time.Now()
	a, b := NewStatsGather(br, "a", log), NewStatsGather(br, "b", log)
	a.local, b.local = view("a", 2, now), view("b", 3, now.Add(-time.Minute))
	done := make(chan error, 2)
	go func() { done <- a.Run(ctx) }()
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, <-done)
		br.Close(context.Background())
	})

	var st BoardStats
	require.Eventually(t, func() bool { // until both subscriptions are live
		st = BoardStats{}
		mergeNodeStats(a.Gather("acme"), &st)
		return len(st.Nodes) == 2
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"a", "b"}, st.Nodes)
	require.Equal(t, 5, st.Sockets)
	require.Equal(t, 20, st.Delivery.Queued)
	require.Equal(t, 8, st.Delivery.InFlight)
	require.Len(t, st.Delivery.Stalled, 2)
	require.Equal(t, "v-b", st.Delivery.Stalled[0].UserID, "oldest stall first")
	before := counted.Load()
	again := BoardStats{}
	mergeNodeStats(a.Gather("acme"), &again)
	require.Equal(t, st.Nodes, again.Nodes)
	require.Equal(t, before, counted.Load(), "asked again within statsFresh: the last answers, no node counts again")

	st = BoardStats{}
	mergeNodeStats(b.Gather("other"), &st)
	require.Len(t, st.Nodes, 2)
	require.Zero(t, st.Sockets)
	require.Empty(t, st.Delivery.Stalled)
}
