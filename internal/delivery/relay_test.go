package delivery_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// fakeOutbox is an in-memory outbox.
type fakeOutbox struct {
	mu       sync.Mutex
	entries  []delivery.OutboxEntry
	sent     map[int64]bool
	reads    int
	markGate chan struct{} // when set, MarkSent waits for it
}

func (f *fakeOutbox) PendingOutbox(_ context.Context, limit int) ([]delivery.OutboxEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	var out []delivery.OutboxEntry
	for _, e := range f.entries {
		if !f.sent[e.Seq] && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeOutbox) MarkSent(_ context.Context, seqs []int64, _ time.Time) error {
	if f.markGate != nil {
		<-f.markGate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range seqs {
		f.sent[s] = true
	}
	return nil
}

func change(t *testing.T, seq int64, st orders.Status) delivery.OutboxEntry {
	o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", CustomerID: "c1", Status: st}
	ev := orders.Event{ID: "e" + strconv.FormatInt(seq, 10), OrderID: "o1", Status: st}
	payload, err := json.Marshal(orders.Change{Order: o, Event: ev})
	require.NoError(t, err)
	return delivery.OutboxEntry{Seq: seq, Tenant: "acme", OrderID: "o1", EventID: ev.ID, Payload: payload}
}

// vendorStatuses lists the statuses on the vendor's feed, in log order.
func vendorStatuses(t *testing.T, l *memLog) []string {
	var out []string
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.subj {
		if s != "x.ev.acme.v.v1" {
			continue
		}
		var r delivery.Record
		require.NoError(t, json.Unmarshal(l.data[i], &r))
		var st dispatch.OrderStatus
		require.NoError(t, json.Unmarshal(r.Body, &st))
		out = append(out, string(st.Status))
	}
	return out
}

func TestRelayKeepsOrderAcrossFailures(t *testing.T) {
	log := zaptest.NewLogger(t)
	box := &fakeOutbox{sent: map[int64]bool{}, entries: []delivery.OutboxEntry{
		change(t, 1, orders.Ready), change(t, 2, orders.Assigned), change(t, 3, orders.PickedUp),
	}}
	ml := newMemLog()
	// Change 1 has 3 records (vendor, customer, pickups); fail the 5th
	// publish, the second record of change 2.
	ml.failAt = 5
	c := delivery.NewRelay(delivery.Config{}, box, ml, dispatch.Fanout, log)
	ctx := context.Background()

	for c.RelayOnce(ctx) {
	}
	c.AwaitMark()
	assert.Equal(t, []string{"ready", "assigned"}, vendorStatuses(t, ml), "a failed publish stops the change, and its order's later ones")
	pending, _ := box.PendingOutbox(ctx, 10)
	require.Len(t, pending, 2, "the change that failed halfway stays pending")

	for c.RelayOnce(ctx) {
	}
	c.AwaitMark()
	assert.Equal(t, []string{"ready", "assigned", "picked_up"}, vendorStatuses(t, ml), "the rest follows, in order, without duplicates")
	pending, _ = box.PendingOutbox(ctx, 10)
	assert.Empty(t, pending)

	// A row published but not marked (crash in between) is republished
	// and deduplicated by message id.
	n, _ := ml.LastPos(ctx)
	box.sent[3] = false
	c.RelayOnce(ctx)
	c.AwaitMark()
	again, _ := ml.LastPos(ctx)
	assert.Equal(t, n, again)
}

// TestRelayWaves: a change's records for different feeds are published
// together (a pickup does not wait behind the vendor's and customer's
// copies), and two records on one feed go one after the other.
func TestRelayWaves(t *testing.T) {
	log := zaptest.NewLogger(t)
	other := change(t, 2, orders.Delivered)
	other.OrderID = "o2"
	box := &fakeOutbox{sent: map[int64]bool{}, entries: []delivery.OutboxEntry{change(t, 1, orders.Ready), other}}
	ml := newMemLog()
	c := delivery.NewRelay(delivery.Config{}, box, ml, dispatch.Fanout, log)
	require.False(t, c.RelayOnce(context.Background()))
	require.Equal(t, [][]string{
		{"x.ev.acme.v.v1", "x.ev.acme.c.c1", "x.ev.acme.p.~", "x.ev.acme.v.v1", "x.ev.acme.c.c1"},
		{"x.ev.acme.v.v1"},
	}, ml.batches, "one wave for every feed's first record; the vendor's order:delivered after its order:status")
	var events []string
	for i, subj := range ml.subj {
		if subj == "x.ev.acme.v.v1" {
			var r delivery.Record
			require.NoError(t, json.Unmarshal(ml.data[i], &r))
			events = append(events, r.Event)
		}
	}
	assert.Equal(t, []string{string(dispatch.EventOrderStatus), string(dispatch.EventOrderStatus), string(dispatch.EventOrderDelivered)}, events)
}

// TestRelayOverlapsMarks: the next round publishes while the last
// round's mark is still being written, without publishing that round's
// changes again; the order's next change may go, as its previous one is
// stored.
func TestRelayOverlapsMarks(t *testing.T) {
	log := zaptest.NewLogger(t)
	gate := make(chan struct{})
	box := &fakeOutbox{sent: map[int64]bool{}, markGate: gate,
		entries: []delivery.OutboxEntry{change(t, 1, orders.Ready), change(t, 2, orders.Assigned)}}
	ml := newMemLog()
	c := delivery.NewRelay(delivery.Config{}, box, ml, dispatch.Fanout, log)
	ctx := context.Background()

	require.True(t, c.RelayOnce(ctx), "change 2 waits for the next round")
	round2 := make(chan bool, 1)
	go func() { round2 <- c.RelayOnce(ctx) }()
	require.Eventually(t, func() bool {
		n, _ := ml.LastPos(ctx)
		return n == 6
	}, 2*time.Second, time.Millisecond, "change 2 is published while change 1's mark is held")
	ml.mu.Lock()
	tries := ml.tries
	ml.mu.Unlock()
	assert.Equal(t, 6, tries, "change 1 was not published again")
	select {
	case <-round2:
		t.Fatal("the round returned before the previous mark landed")
	case <-time.After(20 * time.Millisecond):
	}
	close(gate)
	assert.False(t, <-round2)
	c.AwaitMark()
	pending, _ := box.PendingOutbox(ctx, 10)
	assert.Empty(t, pending)
	assert.Equal(t, []string{"ready", "assigned"}, vendorStatuses(t, ml))
}

func TestRelayTakesOneChangePerOrderPerRound(t *testing.T) {
	log := zaptest.NewLogger(t)
	other := func(seq int64, st orders.Status) delivery.OutboxEntry {
		e := change(t, seq, st)
		e.OrderID = "o2"
		return e
	}
	box := &fakeOutbox{sent: map[int64]bool{}, entries: []delivery.OutboxEntry{
		change(t, 1, orders.Ready), other(2, orders.Ready), change(t, 3, orders.Assigned),
	}}
	ml := newMemLog()
	c := delivery.NewRelay(delivery.Config{}, box, ml, dispatch.Fanout, log)
	assert.True(t, c.RelayOnce(context.Background()), "o1's second change waits for the next round")
	c.AwaitMark()
	pending, _ := box.PendingOutbox(context.Background(), 10)
	require.Len(t, pending, 1)
	assert.Equal(t, int64(3), pending[0].Seq)
	assert.False(t, c.RelayOnce(context.Background()))
}

func TestRunRelaysOnWake(t *testing.T) {
	log := zaptest.NewLogger(t)
	box := &fakeOutbox{sent: map[int64]bool{}}
	ml := newMemLog()
	c := delivery.NewRelay(delivery.Config{}, box, ml, dispatch.Fanout, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { c.Run(ctx); done <- nil }()

	box.mu.Lock()
	box.entries = append(box.entries, change(t, 1, orders.Ready))
	box.mu.Unlock()
	c.Wake()
	require.Eventually(t, func() bool {
		n, _ := ml.LastPos(ctx)
		return n == 3
	}, 2*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestRelayedChangesReachRecipients(t *testing.T) {
	log := zaptest.NewLogger(t)
	box := &fakeOutbox{sent: map[int64]bool{}}
	ml := newMemLog()
	d := node(t, ml, newMemRecipients(), delivery.Config{})
	v, _ := attach(t, d, vendor1)
	c := delivery.NewRelay(delivery.Config{}, box, ml, dispatch.Fanout, log)
	box.entries = []delivery.OutboxEntry{change(t, 1, orders.Ready), change(t, 2, orders.Cancelled)}
	for c.RelayOnce(context.Background()) {
	}
	got := decoded(t, v.waitN(t, 2))
	assert.Equal(t, "ready", got[0].Status)
	assert.Equal(t, "cancelled", got[1].Status)
}

func TestRunDrainsTheOutboxWhenStopped(t *testing.T) {
	log := zaptest.NewLogger(t)
	box := &fakeOutbox{sent: map[int64]bool{}}
	ml := newMemLog()
	c := delivery.NewRelay(delivery.Config{}, box, ml, dispatch.Fanout, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { c.Run(ctx); done <- nil }()
	require.Eventually(t, func() bool {
		box.mu.Lock()
		defer box.mu.Unlock()
		return box.reads > 0
	}, 2*time.Second, time.Millisecond, "the relay's first round")
	// Committed, nobody woke the relay, and the node stops before its
	// next poll.
	box.mu.Lock()
	box.entries = append(box.entries, change(t, 1, orders.Ready))
	box.mu.Unlock()
	cancel()
	require.NoError(t, <-done)
	n, _ := ml.LastPos(context.Background())
	assert.Equal(t, uint64(3), n, "the pending change was relayed on the way out")
}
