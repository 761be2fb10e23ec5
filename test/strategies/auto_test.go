//go:build unix

package strategies

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// respondBy is the server's default time to reject an auto assignment.
const respondBy = 30 * time.Second

// assigned is an order:assigned payload.
type assigned struct {
	EventID   string    `json:"eventId"`
	Seq       uint64    `json:"seq"`
	Order     order     `json:"order"`
	RespondBy time.Time `json:"respondBy"`
}

// awaitAssigned waits for d's order:assigned of o and checks it.
func awaitAssigned(t *testing.T, d *peer, o order, why string) {
	t.Helper()
	r := d.await("order:assigned", forOrder(o.ID), eventWait, why)
	var a assigned
	require.NoError(t, json.Unmarshal(r.body, &a), "order:assigned %s", r.body)
	assert.NotEmpty(t, a.EventID, "order:assigned is durable: eventId")
	assert.NotZero(t, a.Seq, "order:assigned is durable: seq")
	assert.Equal(t, orders.Assigned, a.Order.Status)
	assert.Equal(t, d.name, a.Order.DriverID)
	assert.WithinDuration(t, r.at.Add(respondBy), a.RespondBy, 10*time.Second, "respondBy is about 30 s away")
}

// TestAuto: an auto order is assigned to the nearest idle driver, and
// after its reject to the next nearest; with every driver off duty the
// vendor hears order:unassigned no_driver, and the order goes to the
// first driver who comes back on duty with a position.
func TestAuto(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := startServer(t, bin, be)
		ds := drivers(t, s, fleetSize, false, nil)
		vendor := connect(t, s, orders.RoleVendor, "v1")

		o := create(t, vendor, "auto", "auto")
		awaitAssigned(t, ds[0], o, "the nearest idle driver gets an auto order")
		ds[1].quiet("order:assigned", nil, 300*time.Millisecond, "only the nearest driver is assigned")

		var rejected struct {
			Order order `json:"order"`
		}
		ds[0].mustOK("order:reject", map[string]any{"orderId": o.ID, "reason": "too busy"}, &rejected)
		assert.Equal(t, orders.Ready, rejected.Order.Status, "a rejected order is ready again")
		awaitAssigned(t, ds[1], o, "a reject moves the order to the next nearest driver")
		ds[0].quiet("order:assigned", nil, 300*time.Millisecond, "a driver who rejected an order does not get it back")

		for _, d := range ds {
			d.mustOK("driver:duty", map[string]any{"onDuty": false}, nil)
		}
		waitFleet(t, s, 0)
		none := create(t, vendor, "auto", "auto")
		r := vendor.await("order:unassigned", forOrder(none.ID), eventWait, "no driver on duty")
		var un struct {
			EventID string `json:"eventId"`
			OrderID string `json:"orderId"`
			Reason  string `json:"reason"`
		}
		require.NoError(t, json.Unmarshal(r.body, &un))
		assert.Equal(t, "no_driver", un.Reason)
		assert.NotEmpty(t, un.EventID, "order:unassigned is durable")

		back := ds[6]
		back.mustOK("driver:duty", map[string]any{"onDuty": true}, nil)
		back.mustOK("location:update", map[string]any{"lat": driverLat(7), "lng": pickupLng}, nil)
		awaitAssigned(t, back, none, "a waiting auto order goes to a driver coming on duty")
		for _, d := range ds[7:] {
			d.quiet("order:assigned", forOrder(none.ID), 0, "only the driver back on duty")
		}
	})
}
