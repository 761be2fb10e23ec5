package dispatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

func nearestOrder(customer string) map[string]any {
	o := newOrder(customer) // pickup at 52.52, 13.40, zone north
	o["dispatch"] = map[string]any{"strategy": "nearest"}
	return o
}

// expectOffer reads the driver's pickup:offer for orderID in round.
func (u *user) expectOffer(orderID string, round int, ttl time.Duration) PickupOffer {
	u.t.Helper()
	var o PickupOffer
	u.expect(string(EventPickupOffer), &o)
	require.Equal(u.t, orderID, o.Order.ID)
	require.Equal(u.t, orders.Ready, o.Order.Status)
	require.Equal(u.t, round, o.Round)
	require.NotEmpty(u.t, o.EventID)
	require.WithinDuration(u.t, time.Now().Add(ttl), o.ExpiresAt, 2*time.Second)
	return o
}

// drivers puts n drivers on duty north of the pickup, driver i at about
// (i+1) km, nearest first.
func (e *env) drivers(t *testing.T, n int) []*user {
	t.Helper()
	out := make([]*user, n)
	for i := range out {
		out[i] = e.onDutyAt(t, fmt.Sprintf("d%d", i+1), 52.52+0.009*float64(i+1), 13.40)
	}
	return out
}

// subscriber is an off-duty driver subscribed to the north zone: it
// hears what is broadcast.
func (e *env) subscriber(t *testing.T) *user {
	t.Helper()
	sub := e.connect(t, "acme", orders.RoleDriver, "sub")
	sub.mustOK("pickups:subscribe", map[string]any{"zone": "north"})
	return sub
}

// TestNearestRingsThenBroadcast: the first ring goes to the nearest
// drivers only; its declines bring the next ring at once; the last
// ring's expiry falls back to the zone broadcast, which anyone may claim.
func TestNearestRingsThenBroadcast(t *testing.T) {
	e := newEnv(t, Config{OfferSize: 2, OfferTTL: time.Second, OfferRounds: 2})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	sub := e.subscriber(t)
	d := e.drivers(t, 5)
	created := vendor.mustOK("order:create", nearestOrder("c1")).Order
	assert.Equal(t, orders.StrategyNearest, created.Dispatch.Strategy)
	claim := map[string]any{"orderId": created.ID}

	first := d[0].expectOffer(created.ID, 1, time.Second)
	assert.InDelta(t, 1000, first.DistanceMeters, 50)
	d[1].expectOffer(created.ID, 1, time.Second)
	d[2].quiet(100 * time.Millisecond)
	sub.quiet(10 * time.Millisecond)
	assert.Empty(t, sub.mustOK("pickups:subscribe", map[string]any{"zone": "north"}).Pickups,
		"an order in its rings is no pickup for everyone")
	d[2].mustFail(orders.CodeConflict, "pickup:claim", claim)

	d[0].mustOK("pickup:decline", map[string]any{"orderId": created.ID, "reason": "full"})
	d[0].mustFail(orders.CodeConflict, "pickup:claim", claim)
	d[1].mustOK("pickup:decline", claim)
	// The whole ring declined: the next one goes out long before the
	// first ring's second would have passed.
	start := time.Now()
	d[2].expectOffer(created.ID, 2, time.Second)
	d[3].expectOffer(created.ID, 2, time.Second)
	assert.Less(t, time.Since(start), 700*time.Millisecond)
	d[4].quiet(100 * time.Millisecond)
	d[0].quiet(10 * time.Millisecond)

	// The last ring expires unanswered: everyone in the zone hears of it.
	var av PickupAvailable
	sub.expect(string(EventPickupAvailable), &av)
	assert.Equal(t, created.ID, av.Order.ID)
	assert.Len(t, sub.mustOK("pickups:subscribe", map[string]any{"zone": "north"}).Pickups, 1)
	d[2].mustFail(orders.CodeConflict, "pickup:decline", claim)
	got := d[4].mustOK("pickup:claim", claim).Order
	assert.Equal(t, "d5", got.DriverID)
	var tk PickupTaken
	sub.expect(string(EventPickupTaken), &tk)
	assert.Equal(t, created.ID, tk.OrderID)
	rings, offered, declined, broadcast := e.offers.counts()
	assert.Equal(t, []int{2, 4, 2}, []int{rings, offered, declined})
	assert.Equal(t, map[string]int{BroadcastAfterRounds: 1}, broadcast)
}

// TestNearestClaimTellsTheRing: the first claim of the ring wins, the
// rest of the ring hears pickup:taken, the zone hears nothing.
func TestNearestClaimTellsTheRing(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	sub := e.subscriber(t)
	d := e.drivers(t, 4)
	created := vendor.mustOK("order:create", nearestOrder("c1")).Order
	for _, u := range d[:3] {
		u.expectOffer(created.ID, 1, 30*time.Second)
	}
	d[3].quiet(100 * time.Millisecond)
	got := d[1].mustOK("pickup:claim", map[string]any{"orderId": created.ID}).Order
	assert.Equal(t, "d2", got.DriverID)
	for _, u := range []*user{d[0], d[2]} {
		var tk PickupTaken
		u.expect(string(EventPickupTaken), &tk)
		assert.Equal(t, created.ID, tk.OrderID)
	}
	d[0].mustFail(orders.CodeAlreadyClaimed, "pickup:claim", map[string]any{"orderId": created.ID})
	d[1].quiet(100 * time.Millisecond)
	sub.quiet(10 * time.Millisecond)
	d[0].mustFail(orders.CodeConflict, "pickup:decline", map[string]any{"orderId": created.ID})
}

// TestNearestWithNobodyNearBroadcastsAtOnce: no on-duty driver within
// the radius: waiting for rings would help nobody.
func TestNearestWithNobodyNearBroadcastsAtOnce(t *testing.T) {
	e := newEnv(t, Config{OfferRadiusMeters: 500})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	sub := e.subscriber(t)
	far := e.onDutyAt(t, "far", 52.53, 13.40) // 1.1 km
	created := vendor.mustOK("order:create", nearestOrder("c1")).Order
	var av PickupAvailable
	sub.expect(string(EventPickupAvailable), &av)
	assert.Equal(t, created.ID, av.Order.ID)
	far.quiet(100 * time.Millisecond)
	_, _, _, broadcast := e.offers.counts()
	assert.Equal(t, map[string]int{BroadcastNobodyNear: 1}, broadcast)
}

// TestNearestGivenBackIsOfferedAgain: an unassigned order starts its
// rings again, without the driver who gave it back.
func TestNearestGivenBackIsOfferedAgain(t *testing.T) {
	e := newEnv(t, Config{OfferSize: 1})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	d := e.drivers(t, 2)
	created := vendor.mustOK("order:create", nearestOrder("c1")).Order
	d[0].expectOffer(created.ID, 1, 30*time.Second)
	d[0].mustOK("pickup:claim", map[string]any{"orderId": created.ID})
	d[0].mustOK("order:unassign", map[string]any{"orderId": created.ID})
	d[0].expect(string(EventOrderStatus), nil)
	d[1].expectOffer(created.ID, 1, 30*time.Second)
	d[0].quiet(100 * time.Millisecond)
	d[0].mustFail(orders.CodeConflict, "pickup:claim", map[string]any{"orderId": created.ID})
	d[1].mustOK("pickup:claim", map[string]any{"orderId": created.ID})
}

// TestDeclineRefusals: pickup:decline only for an order offered to the
// caller, now.
func TestDeclineRefusals(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	// Two in the ring: d1's decline leaves it open (d2 has not
	// answered), so that d1's retry still finds it.
	d := e.drivers(t, 2)
	rival := e.connect(t, "globex", orders.RoleDriver, "d1") // same id, other tenant
	plain := vendor.mustOK("order:create", newOrder("c1")).Order
	offered := vendor.mustOK("order:create", nearestOrder("c1")).Order
	d[0].expectOffer(offered.ID, 1, 30*time.Second)
	d[1].expectOffer(offered.ID, 1, 30*time.Second)

	d[0].mustFail(orders.CodeConflict, "pickup:decline", map[string]any{"orderId": plain.ID})
	d[0].mustFail(orders.CodeNotFound, "pickup:decline", map[string]any{"orderId": orders.NewID()})
	d[0].mustFail(orders.CodeInvalidArgument, "pickup:decline", map[string]any{"orderId": "nope"})
	d[0].mustFail(orders.CodeInvalidArgument, "pickup:decline",
		map[string]any{"orderId": offered.ID, "reason": string(make([]byte, orders.MaxReasonLen+1))})
	rival.mustFail(orders.CodeNotFound, "pickup:decline", map[string]any{"orderId": offered.ID})
	d[0].mustOK("pickup:decline", map[string]any{"orderId": offered.ID})
	d[0].mustOK("pickup:decline", map[string]any{"orderId": offered.ID}) // a retry
	_, _, declined, _ := e.offers.counts()
	assert.Equal(t, 1, declined, "a retried decline is counted once")
}

// TestNearestDefaultStrategy: the server's strategy applies to orders
// that name none, not to those that name one.
func TestNearestDefaultStrategy(t *testing.T) {
	e := newEnv(t, Config{Strategy: orders.StrategyNearest})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	d := e.drivers(t, 1)
	created := vendor.mustOK("order:create", newOrder("c1")).Order
	assert.Equal(t, orders.StrategyNearest, created.Dispatch.Strategy)
	d[0].expectOffer(created.ID, 1, 30*time.Second)
	bc := newOrder("c1")
	bc["dispatch"] = map[string]any{"strategy": "broadcast"}
	assert.Equal(t, orders.StrategyBroadcast, vendor.mustOK("order:create", bc).Order.Dispatch.Strategy)
}

// TestNearestRingOfOneTellsNobody: the only driver of a ring claims; the
// zone, which never heard of the order, hears nothing of it either.
func TestNearestRingOfOneTellsNobody(t *testing.T) {
	e := newEnv(t, Config{OfferSize: 1})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	sub := e.subscriber(t)
	d := e.drivers(t, 1)
	created := vendor.mustOK("order:create", nearestOrder("c1")).Order
	d[0].expectOffer(created.ID, 1, 30*time.Second)
	d[0].mustOK("pickup:claim", map[string]any{"orderId": created.ID})
	sub.quiet(300 * time.Millisecond)
}
