package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
)

var (
	vendor1   = delivery.RecipientID{Tenant: "acme", Role: "vendor", User: "v1"}
	customer1 = delivery.RecipientID{Tenant: "acme", Role: "customer", User: "c1"}
	driver1   = delivery.RecipientID{Tenant: "acme", Role: "driver", User: "d1"}
	driver2   = delivery.RecipientID{Tenant: "acme", Role: "driver", User: "d2"}
)

// feeds is the product's audience table as delivery sees it.
var feeds = map[string]string{"vendor": delivery.FeedVendor, "customer": delivery.FeedCustomer, "driver": delivery.FeedDriver}

// node is one Queues over a shared log and recipient store.
func node(t *testing.T, log *memLog, recips *memRecipients, cfg delivery.Config) *delivery.Queues {
	t.Helper()
	cfg.Feeds = feeds
	if cfg.ProbeAfter == 0 {
		// Tests of the window check that it holds; probes past it are
		// tested on their own (TestProbesPastAFullWindow).
		cfg.ProbeAfter = time.Hour
	}
	d := delivery.NewQueues(cfg, log, recips, quietLog(t))
	require.NoError(t, d.Start(context.Background()))
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

func attach(t *testing.T, d *delivery.Queues, id delivery.RecipientID) (*fakeConn, func()) {
	t.Helper()
	c := newFakeConn()
	detach, err := d.Attach(context.Background(), id, c)
	require.NoError(t, err)
	return c, detach
}

// publishChange renders a change of order id and stores its records.
func publishChange(t *testing.T, log *memLog, id, zone string, st orders.Status, driver string) {
	t.Helper()
	o := orders.Order{ID: id, Tenant: "acme", VendorID: "v1", CustomerID: "c1", Zone: zone, Status: st, DriverID: driver}
	ev := orders.Event{ID: fmt.Sprintf("%s-%s", id, st), OrderID: id, Status: st, DriverID: driver,
		At: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	recs, err := dispatch.Records(orders.Change{Order: o, Event: ev})
	require.NoError(t, err)
	for i := range recs {
		data, err := json.Marshal(&recs[i])
		require.NoError(t, err)
		_, _, err = log.Publish(context.Background(), log.EventSubject(recs[i].SubjectTokens()...), recs[i].MsgID(), data)
		require.NoError(t, err)
	}
}

// payload decodes a delivered event's payload.
type payload struct {
	EventID string `json:"eventId"`
	OrderID string `json:"orderId"`
	Status  string `json:"status"`
	Seq     uint64 `json:"seq"`
	Order   struct {
		ID string `json:"id"`
	} `json:"order"` // pickup:available
}

func decoded(t *testing.T, ds []delivered) []payload {
	t.Helper()
	out := make([]payload, len(ds))
	for i, d := range ds {
		require.NoError(t, json.Unmarshal([]byte(d.payload), &out[i]), d.payload)
	}
	return out
}

func seqs(ps []payload) []uint64 {
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = p.Seq
	}
	return out
}

func ackAll(ds []delivered) {
	for _, d := range ds {
		d.ack()
	}
}

func TestLiveDeliveryInOrderWithSeq(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{})
	c, _ := attach(t, d, vendor1)

	for _, st := range []orders.Status{orders.Ready, orders.Assigned, orders.PickedUp, orders.InTransit, orders.Delivered} {
		publishChange(t, log, "o1", "", st, "d1")
	}
	got := decoded(t, c.waitN(t, 6))
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, seqs(got))
	var statuses []string
	for _, p := range got[:5] {
		statuses = append(statuses, p.Status)
	}
	assert.Equal(t, []string{"ready", "assigned", "picked_up", "in_transit", "delivered"}, statuses)
	assert.Equal(t, "order:delivered", c.all()[5].event)
	assert.NotEqual(t, got[4].EventID, got[5].EventID, "the thank-you has its own event id")
	c.quiet(t, 6)
}

func TestWindowLimitsEventsInFlight(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{Window: 2})
	c, _ := attach(t, d, vendor1)
	for i := range 5 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	first := c.waitN(t, 2)
	c.quiet(t, 2)
	first[0].ack() // seq 1 only: room for one more
	got := decoded(t, c.waitN(t, 3))
	assert.Equal(t, []uint64{1, 2, 3}, seqs(got))
	c.quiet(t, 3)
}

func TestRedeliveryAfterReconnectKeepsSeqs(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{})
	c, detach := attach(t, d, vendor1)
	for i := range 5 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	before := decoded(t, c.waitN(t, 5))
	c.all()[0].ack()
	c.all()[1].ack()
	detach()
	// Missed while away.
	for i := 5; i < 8; i++ {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	c2, _ := attach(t, d, vendor1)
	again := decoded(t, c2.waitN(t, 6))
	assert.Equal(t, []uint64{3, 4, 5, 6, 7, 8}, seqs(again), "what was not acked, then what was missed, in order")
	assert.Equal(t, before[2:], again[:3], "a redelivery is the same event with the same seq")
	c2.quiet(t, 6)
}

func TestAnotherNodeResumesWhereTheFirstLeft(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	a := node(t, log, recips, delivery.Config{FlushInterval: time.Millisecond})
	b := node(t, log, recips, delivery.Config{})
	c, detach := attach(t, a, vendor1)
	for i := range 4 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	onA := decoded(t, c.waitN(t, 4))
	c.all()[0].ack()
	c.all()[1].ack()
	require.Eventually(t, func() bool { return recips.cursor(vendor1).Seq == 2 }, 2*time.Second, time.Millisecond)
	detach()

	c2, _ := attach(t, b, vendor1)
	onB := decoded(t, c2.waitN(t, 2))
	assert.Equal(t, onA[2:], onB)
	publishChange(t, log, "o9", "", orders.Ready, "")
	assert.Equal(t, uint64(5), decoded(t, c2.waitN(t, 3))[2].Seq)
}

func TestSubscriptionsFilterFeeds(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{})
	ctx := context.Background()
	cust, _ := attach(t, d, customer1)
	all, _ := attach(t, d, driver1)
	north, _ := attach(t, d, driver2)

	publishChange(t, log, "o1", "north", orders.Ready, "") // before any subscription
	routed(t, d, log)
	require.NoError(t, d.Subscribe(ctx, customer1, delivery.SubOrder, "o2"))
	require.NoError(t, d.Subscribe(ctx, driver1, delivery.SubZone, ""))
	require.NoError(t, d.Subscribe(ctx, driver2, delivery.SubZone, "north"))
	publishChange(t, log, "o1", "north", orders.Assigned, "d9")
	publishChange(t, log, "o2", "south", orders.Ready, "")
	publishChange(t, log, "o3", "", orders.Ready, "")
	routed(t, d, log)
	require.NoError(t, d.Unsubscribe(ctx, customer1, delivery.SubOrder, "o2"))
	publishChange(t, log, "o2", "south", orders.Assigned, "d1")

	got := decoded(t, cust.waitN(t, 1))
	assert.Equal(t, "o2", got[0].OrderID, "only the watched order, from the watch on")
	cust.quiet(t, 1)

	var allGot []string
	for _, p := range all.waitN(t, 4) {
		allGot = append(allGot, p.event)
	}
	assert.Equal(t, []string{"pickup:taken", "pickup:available", "pickup:available", "pickup:taken"}, allGot, "every zone, and orders without one")
	n := decoded(t, north.waitN(t, 1))
	assert.Equal(t, "o1", n[0].OrderID, "its zone only")
	north.quiet(t, 1)
}

func TestSubscriptionsOutliveTheSocket(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	a := node(t, log, recips, delivery.Config{})
	b := node(t, log, recips, delivery.Config{})
	_, detach := attach(t, a, driver1)
	require.NoError(t, a.Subscribe(context.Background(), driver1, delivery.SubZone, ""))
	detach()
	publishChange(t, log, "o1", "north", orders.Ready, "") // while offline
	c, _ := attach(t, b, driver1)
	got := c.waitN(t, 1)
	assert.Equal(t, "pickup:available", got[0].event)
	assert.Len(t, b.Subscriptions(driver1), 1)
}

func TestSilentClientIsBoundedAndSlowsNobody(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{Window: 4, QueueLimit: 8})
	ctx := context.Background()
	silent, _ := attach(t, d, driver1)
	busy, _ := attach(t, d, driver2)
	require.NoError(t, d.Subscribe(ctx, driver1, delivery.SubZone, ""))
	require.NoError(t, d.Subscribe(ctx, driver2, delivery.SubZone, ""))

	const n = 200
	for i := range n {
		publishChange(t, log, fmt.Sprintf("o%03d", i), "", orders.Ready, "")
	}
	// busy acks as it goes and gets everything.
	require.Eventually(t, func() bool {
		ackAll(busy.all())
		return len(busy.all()) == n
	}, 5*time.Second, time.Millisecond)
	assert.Len(t, silent.all(), 4, "no more than the window is in flight")
	held, live := d.QueueState(driver1)
	assert.LessOrEqual(t, held, 8, "memory is bounded by the queue limit")
	assert.False(t, live, "it fell behind: the rest waits in the log")

	// Once it acks, it catches up from the log, in order, no gaps.
	require.Eventually(t, func() bool {
		ackAll(silent.all())
		return len(silent.all()) == n
	}, 5*time.Second, time.Millisecond)
	got := decoded(t, silent.all())
	for i, p := range got {
		require.Equal(t, uint64(i+1), p.Seq)
		require.Equal(t, fmt.Sprintf("o%03d", i), p.Order.ID)
	}
}

func TestSocketsOfOneUserShareTheQueue(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{Window: 1})
	phone, _ := attach(t, d, vendor1)
	publishChange(t, log, "o1", "", orders.Ready, "")
	publishChange(t, log, "o2", "", orders.Ready, "")
	phone.waitN(t, 1)
	laptop, _ := attach(t, d, vendor1)
	assert.Equal(t, "o1", decoded(t, laptop.waitN(t, 1))[0].OrderID, "a new socket gets what is in flight")
	laptop.all()[0].ack() // the receipt from either socket counts
	assert.Equal(t, uint64(2), decoded(t, phone.waitN(t, 2))[1].Seq)
	assert.Equal(t, uint64(2), decoded(t, laptop.waitN(t, 2))[1].Seq)
}

// TestConcurrentAttachesShareOneQueue: sockets of one user that attach
// at once, each loading the user's state, end up on one queue, which
// delivers each event once to every socket with the same seq.
func TestConcurrentAttachesShareOneQueue(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{})
	const n = 8
	conns := make([]*fakeConn, n)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = newFakeConn()
		wg.Go(func() {
			_, err := d.Attach(context.Background(), vendor1, conns[i])
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, d.Stats().Recipients)
	publishChange(t, log, "o1", "", orders.Ready, "")
	for _, c := range conns {
		got := decoded(t, c.waitN(t, 1))
		assert.Equal(t, uint64(1), got[0].Seq)
	}
	conns[0].quiet(t, 1)
	for _, c := range conns {
		assert.Len(t, c.all(), 1, "one queue: no socket hears the event twice")
	}
}

func TestCloseWritesCursors(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := delivery.NewQueues(delivery.Config{FlushInterval: time.Hour, Feeds: feeds}, log, recips, quietLog(t))
	require.NoError(t, d.Start(context.Background()))
	c, _ := attach(t, d, vendor1)
	publishChange(t, log, "o1", "", orders.Ready, "")
	ackAll(c.waitN(t, 1))
	d.Close(context.Background())
	assert.Equal(t, uint64(1), recips.cursor(vendor1).Seq)
}

// quietLog leaves out the per-record debug lines.
func quietLog(t *testing.T) *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)) }

// routed waits until d has routed everything on the log: a subscription
// starts at the position its node has routed.
func routed(t *testing.T, d *delivery.Queues, log *memLog) {
	t.Helper()
	last, _ := log.LastPos(context.Background())
	require.Eventually(t, func() bool { return d.Pos() == last }, 2*time.Second, time.Millisecond)
}

func TestIdleCursorMovesPastOthersRecords(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{FlushInterval: time.Millisecond})
	for i := range 5 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "") // before the customer watched anything
	}
	routed(t, d, log)
	recips.mu.Lock()
	recips.cursors[customer1] = delivery.Cursor{Pos: 1, Seq: 0}
	recips.mu.Unlock()
	c, _ := attach(t, d, customer1)
	require.Eventually(t, func() bool { return recips.cursor(customer1).Pos == 15 }, 2*time.Second, time.Millisecond,
		"nothing was the customer's: the cursor skips what it has read")
	assert.Equal(t, uint64(0), recips.cursor(customer1).Seq)
	c.quiet(t, 0)
}
