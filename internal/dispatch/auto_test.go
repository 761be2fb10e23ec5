package dispatch

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// onDutyAt connects driver id, puts it on duty at (lat, lng) and waits
// until this node's Fleet knows the position.
func (e *env) onDutyAt(t *testing.T, id string, lat, lng float64) *user {
	t.Helper()
	d := e.connect(t, "acme", orders.RoleDriver, id)
	d.mustOK("driver:duty", map[string]any{"onDuty": true})
	d.mustOK("location:update", map[string]any{"lat": lat, "lng": lng})
	require.Eventually(t, func() bool {
		_, _, ok := e.fleet.Position("acme", id)
		return ok
	}, 3*time.Second, 10*time.Millisecond, "the fleet never saw %s", id)
	return d
}

func autoOrder(customer string) map[string]any {
	o := newOrder(customer) // pickup at 52.52, 13.40
	o["dispatch"] = map[string]any{"strategy": "auto"}
	return o
}

// expectAssigned reads the driver's order:assigned for orderID.
func (u *user) expectAssigned(orderID, driver string, respondWithin time.Duration) {
	u.t.Helper()
	var a OrderAssigned
	u.expect(string(EventOrderAssigned), &a)
	require.Equal(u.t, orderID, a.Order.ID)
	require.Equal(u.t, orders.Assigned, a.Order.Status)
	require.Equal(u.t, driver, a.Order.DriverID)
	require.NotEmpty(u.t, a.EventID)
	require.WithinDuration(u.t, time.Now().Add(respondWithin), a.RespondBy, 5*time.Second)
}

// TestAutoAssignsNearestThenNextOnReject: the nearest driver gets the
// order; each reject passes it to the next nearest who has not had it;
// when every driver rejected it, it stays ready.
func TestAutoAssignsNearestThenNextOnReject(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	far := e.onDutyAt(t, "far", 52.60, 13.40)                   // ~8.9 km
	near := e.onDutyAt(t, "near", 52.53, 13.40)                 // ~1.1 km
	middle := e.onDutyAt(t, "mid", 52.55, 13.40)                // ~3.3 km
	other := e.connect(t, "globex", orders.RoleDriver, "near2") // another tenant
	created := vendor.mustOK("order:create", autoOrder("c1")).Order
	assert.Equal(t, orders.StrategyAuto, created.Dispatch.Strategy)

	near.expectAssigned(created.ID, "near", 30*time.Second)
	middle.quiet(100 * time.Millisecond)
	got := near.mustOK("order:reject", map[string]any{"orderId": created.ID, "reason": "too far"}).Order
	assert.Equal(t, orders.Ready, got.Status)
	var st OrderStatus
	near.expect(string(EventOrderStatus), &st)
	assert.Equal(t, orders.Ready, st.Status)

	middle.expectAssigned(created.ID, "mid", 30*time.Second)
	middle.mustOK("order:reject", map[string]any{"orderId": created.ID})
	far.expectAssigned(created.ID, "far", 30*time.Second)
	far.mustOK("order:reject", map[string]any{"orderId": created.ID})
	far.expect(string(EventOrderStatus), nil)

	near.quiet(200 * time.Millisecond)
	other.quiet(10 * time.Millisecond)
	// The vendor saw each assignment and give-back, then the notice.
	var un OrderUnassigned
	for {
		ev := vendor.next()
		if ev.Name == string(EventOrderUnassigned) {
			require.NoError(t, json.Unmarshal(ev.Args[0], &un))
			break
		}
		require.Equal(t, string(EventOrderStatus), ev.Name)
	}
	assert.Equal(t, created.ID, un.OrderID)
	assert.Equal(t, orders.ReasonNoDriver, un.Reason)
	vendor.quiet(200 * time.Millisecond)
	op := AutoActor
	op.Tenant = "acme"
	o, err := e.svc.Get(t.Context(), op, created.ID)
	require.NoError(t, err)
	assert.Equal(t, orders.Ready, o.Status, "everyone rejected it")
}

// TestAutoPrefersTheIdleDriver: of two drivers about as near, the one
// with fewer active orders gets it.
func TestAutoPrefersTheIdleDriver(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	busy := e.onDutyAt(t, "busy", 52.53, 13.40)
	idle := e.onDutyAt(t, "idle", 52.5301, 13.40) // 11 m farther
	plain := vendor.mustOK("order:create", newOrder("c1")).Order
	busy.mustOK("pickup:claim", map[string]any{"orderId": plain.ID})

	created := vendor.mustOK("order:create", autoOrder("c1")).Order
	idle.expectAssigned(created.ID, "idle", 30*time.Second)
	busy.quiet(200 * time.Millisecond)
}

// TestAutoRejectAfterRespondBy: past respondBy the assignment stands.
func TestAutoRejectAfterRespondBy(t *testing.T) {
	e := newEnv(t, Config{RespondBy: 300 * time.Millisecond})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	d1 := e.onDutyAt(t, "d1", 52.53, 13.40)
	e.onDutyAt(t, "d2", 52.55, 13.40)
	created := vendor.mustOK("order:create", autoOrder("c1")).Order
	d1.expectAssigned(created.ID, "d1", 300*time.Millisecond)
	time.Sleep(400 * time.Millisecond)
	d1.mustFail(orders.CodeConflict, "order:reject", map[string]any{"orderId": created.ID})
	d1.mustOK("order:picked_up", map[string]any{"orderId": created.ID})
}

// TestAutoWaitsForADriver: with nobody on duty the order stays ready;
// the first driver on duty with a position gets it.
func TestAutoWaitsForADriver(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	created := vendor.mustOK("order:create", autoOrder("c1")).Order
	assert.Equal(t, orders.Ready, created.Status)
	var st OrderStatus
	vendor.expect(string(EventOrderStatus), &st)
	assert.Equal(t, orders.Ready, st.Status)
	var un OrderUnassigned
	vendor.expect(string(EventOrderUnassigned), &un)
	assert.Equal(t, OrderUnassigned{EventID: un.EventID, OrderID: created.ID, Reason: "no_driver"}, un)
	require.NotEmpty(t, un.EventID)
	vendor.quiet(300 * time.Millisecond)

	d1 := e.onDutyAt(t, "d1", 52.60, 13.40)
	d1.expectAssigned(created.ID, "d1", 30*time.Second)
	vendor.expect(string(EventOrderStatus), &st)
	assert.Equal(t, orders.Assigned, st.Status)
	assert.Equal(t, "d1", st.DriverID)
}

// TestDriverChangedMarksOnlyAvailableDrivers: only an on-duty driver with
// a fresh position makes its tenant's waiting auto orders worth a retry.
func TestDriverChangedMarksOnlyAvailableDrivers(t *testing.T) {
	tests := []struct {
		name string
		give DriverState
		want []string
	}{
		{"on duty, position known", DriverState{Tenant: "acme", DriverID: "d1", OnDuty: true, Known: true}, []string{"acme"}},
		{"on duty, no position yet", DriverState{Tenant: "acme", DriverID: "d1", OnDuty: true}, []string{}},
		{"off duty", DriverState{Tenant: "acme", DriverID: "d1"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewService(nil, nil, nil, nil, nil)
			s.EnableAuto(NewFleet(time.Minute, nil), 0, nil)
			s.DriverChanged(tt.give)
			require.Equal(t, tt.want, s.auto.retry.take())
			require.Equal(t, 30*time.Second, s.auto.respondBy, "the default")
		})
	}
	// Without the auto strategy the hook does nothing.
	NewService(nil, nil, nil, nil, nil).DriverChanged(DriverState{Tenant: "acme", OnDuty: true, Known: true})
}
