package dispatch

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// expectStatus reads u's next order:status, past other events and a
// "ready" (a customer who watches just after the creation may or may not
// hear it), which must be orderID's want; it returns it decoded and raw.
func (u *user) expectStatus(orderID string, want orders.Status) (OrderStatus, string) {
	u.t.Helper()
	for {
		ev := u.next()
		if ev.Name != string(EventOrderStatus) {
			continue
		}
		var st OrderStatus
		require.NoError(u.t, json.Unmarshal(ev.Args[0], &st))
		if st.Status == orders.Ready && want != orders.Ready {
			continue
		}
		require.Equal(u.t, orderID, st.OrderID, "args: %s", ev.Args)
		require.Equal(u.t, want, st.Status, "args: %s", ev.Args)
		return st, string(ev.Args[0])
	}
}

// TestOrderStatusCarriesETA: a driver with a fresh position claims an
// order: the vendor's and the customer's order:status carry the ETA to
// the pickup, then after pickup to the dropoff, as the configured
// estimate makes it; a driver whose position is unknown gives none, and
// the delivery ends it.
func TestOrderStatusCarriesETA(t *testing.T) {
	cfg := Config{AvgSpeedMPS: 10, DetourFactor: 1.5}
	e := newEnv(t, cfg)
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	customer := e.connect(t, "acme", orders.RoleCustomer, "c1")
	at := geo.Point{Lat: 52.53, Lng: 13.40} // ~1.1 km north of the pickup
	d1 := e.onDutyAt(t, "d1", at.Lat, at.Lng)
	o := vendor.mustOK("order:create", newOrder("c1")).Order
	customer.mustOK("order:watch", map[string]any{"orderId": o.ID})
	vendor.expectStatus(o.ID, orders.Ready)

	est := geo.Straight{SpeedMPS: 10, DetourFactor: 1.5}
	_, toPickup := est.Estimate(at, geo.Point{Lat: o.Pickup.Lat, Lng: o.Pickup.Lng})
	_, toDropoff := est.Estimate(at, geo.Point{Lat: o.Dropoff.Lat, Lng: o.Dropoff.Lng})
	require.NotEqual(t, toPickup, toDropoff)

	d1.mustOK("pickup:claim", map[string]any{"orderId": o.ID})
	for _, u := range []*user{vendor, customer} {
		st, raw := u.expectStatus(o.ID, orders.Assigned)
		require.NotNil(t, st.ETASeconds, raw)
		assert.Equal(t, toPickup, *st.ETASeconds, "to the pickup while assigned")
	}
	d1.mustOK("order:picked_up", map[string]any{"orderId": o.ID})
	for _, u := range []*user{vendor, customer} {
		st, raw := u.expectStatus(o.ID, orders.PickedUp)
		require.NotNil(t, st.ETASeconds, raw)
		assert.Equal(t, toDropoff, *st.ETASeconds, "to the dropoff once picked up")
	}
	d1.mustOK("order:in_transit", map[string]any{"orderId": o.ID})
	st, raw := vendor.expectStatus(o.ID, orders.InTransit)
	require.NotNil(t, st.ETASeconds, raw)
	d1.mustOK("order:delivered", map[string]any{"orderId": o.ID})
	_, raw = vendor.expectStatus(o.ID, orders.Delivered)
	assert.NotContains(t, raw, "etaSeconds", "a delivered order has no ETA")

	// On duty, but no position yet: no ETA rather than a guess.
	d2 := e.connect(t, "acme", orders.RoleDriver, "d2")
	d2.mustOK("driver:duty", map[string]any{"onDuty": true})
	o2 := vendor.mustOK("order:create", newOrder("c1")).Order
	vendor.expectStatus(o2.ID, orders.Ready)
	d2.mustOK("pickup:claim", map[string]any{"orderId": o2.ID})
	_, raw = vendor.expectStatus(o2.ID, orders.Assigned)
	assert.NotContains(t, raw, "etaSeconds", "no fresh position, no ETA")
}

// TestAutoAssignmentStatusCarriesETA: the auto strategy's assignment is
// made by the "auto" actor, but the ETA is the assigned driver's, from
// its own position to the pickup.
func TestAutoAssignmentStatusCarriesETA(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	at := geo.Point{Lat: 52.55, Lng: 13.40} // ~3.3 km north of the pickup
	d := e.onDutyAt(t, "d1", at.Lat, at.Lng)
	o := vendor.mustOK("order:create", autoOrder("c1")).Order
	d.expectAssigned(o.ID, "d1", 30*time.Second)
	vendor.expectStatus(o.ID, orders.Ready)
	st, raw := vendor.expectStatus(o.ID, orders.Assigned)
	require.NotNil(t, st.ETASeconds, raw)
	_, want := Config{}.ETA().Estimate(at, geo.Point{Lat: o.Pickup.Lat, Lng: o.Pickup.Lng})
	assert.Equal(t, want, *st.ETASeconds)
}
