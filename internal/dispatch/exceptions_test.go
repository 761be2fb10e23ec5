package dispatch

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// drain returns the next n events by name (their order across one
// recipient's feeds is not what this test checks).
func (u *user) drain(n int) map[string]json.RawMessage {
	u.t.Helper()
	got := map[string]json.RawMessage{}
	for range n {
		ev := u.next()
		got[ev.Name] = ev.Args[0]
	}
	return got
}

func TestUnassignOffersTheOrderAgain(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	d1 := e.connect(t, "acme", orders.RoleDriver, "d1")
	d2 := e.connect(t, "acme", orders.RoleDriver, "d2")
	d1.mustOK("pickups:subscribe", map[string]any{})
	d2.mustOK("pickups:subscribe", map[string]any{})
	created := vendor.mustOK("order:create", newOrder("c1")).Order
	assert.Equal(t, orders.StrategyBroadcast, created.Dispatch.Strategy)
	vendor.expect("order:status", nil)
	d1.expect("pickup:available", nil)
	d2.expect("pickup:available", nil)

	d1.mustOK("pickup:claim", map[string]any{"orderId": created.ID})
	vendor.expect("order:status", nil)
	d1.expect("pickup:taken", nil)
	d2.expect("pickup:taken", nil)

	d2.mustFail(orders.CodeForbidden, "order:unassign", map[string]any{"orderId": created.ID})
	d1.mustFail(orders.CodeConflict, "order:reject", map[string]any{"orderId": created.ID}) // broadcast, not auto
	d1.mustFail(orders.CodeInvalidArgument, "order:unassign", map[string]any{"orderId": "nope"})
	r := d1.mustOK("order:unassign", map[string]any{"orderId": created.ID, "reason": "flat tyre"})
	assert.Equal(t, orders.Ready, r.Order.Status)
	assert.Empty(t, r.Order.DriverID)

	var st OrderStatus
	vendor.expect("order:status", &st)
	assert.Equal(t, orders.Ready, st.Status)
	var pa PickupAvailable
	d2.expect("pickup:available", &pa)
	assert.Equal(t, created.ID, pa.Order.ID)
	mine := d1.drain(2)
	require.Contains(t, mine, "pickup:available")
	require.Contains(t, mine, "order:status", "the unassigned driver's own feed")
	require.NoError(t, json.Unmarshal(mine["order:status"], &st))
	assert.Equal(t, orders.Ready, st.Status)

	d2.mustOK("pickup:claim", map[string]any{"orderId": created.ID})
}

func TestFailedDelivery(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	d1 := e.connect(t, "acme", orders.RoleDriver, "d1")
	created := vendor.mustOK("order:create", newOrder("c1")).Order
	vendor.expect("order:status", nil)
	d1.mustOK("pickup:claim", map[string]any{"orderId": created.ID})
	vendor.expect("order:status", nil)
	d1.mustFail(orders.CodeConflict, "order:failed", map[string]any{"orderId": created.ID, "reason": "refused"})
	d1.mustOK("order:picked_up", map[string]any{"orderId": created.ID})
	vendor.expect("order:status", nil)
	d1.mustFail(orders.CodeInvalidArgument, "order:failed", map[string]any{"orderId": created.ID})
	d1.mustFail(orders.CodeInvalidArgument, "order:failed", map[string]any{"orderId": created.ID, "reason": "bored"})
	d1.mustFail(orders.CodeInvalidArgument, "order:failed", map[string]any{"orderId": created.ID, "reason": 7})
	r := d1.mustOK("order:failed", map[string]any{"orderId": created.ID, "reason": "customer_absent"})
	assert.Equal(t, orders.Failed, r.Order.Status)
	require.NotNil(t, r.Order.Failure)
	assert.Equal(t, orders.ReasonCustomerAbsent, r.Order.Failure.Reason)
	assert.False(t, r.Order.Failure.At.IsZero())
	d1.mustOK("order:failed", map[string]any{"orderId": created.ID, "reason": "customer_absent"}) // a retry

	var st OrderStatus
	vendor.expect("order:status", &st)
	assert.Equal(t, orders.Failed, st.Status)
	require.NotNil(t, st.Failure)
	assert.Equal(t, orders.ReasonCustomerAbsent, st.Failure.Reason)
	d1.expect("order:status", &st) // the driver's own feed
	assert.Equal(t, orders.Failed, st.Status)
	vendor.quiet(100 * time.Millisecond)
}

// TestPIN: only the order's customer sees the PIN, in order:watch; it is
// in no ack, event or listing anyone else gets; delivery needs it.
func TestPIN(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	customer := e.connect(t, "acme", orders.RoleCustomer, "c1")
	d1 := e.connect(t, "acme", orders.RoleDriver, "d1")
	d1.mustOK("pickups:subscribe", map[string]any{})

	bad := newOrder("c1")
	bad["dispatch"] = map[string]any{"strategy": "random"}
	vendor.mustFail(orders.CodeInvalidArgument, "order:create", bad)
	bad = newOrder("c1")
	bad["proof"] = "photo"
	vendor.mustFail(orders.CodeInvalidArgument, "order:create", bad)

	n := newOrder("c1")
	n["proof"] = "pin"
	n["dispatch"] = map[string]any{"strategy": "nearest"}
	cr := vendor.mustOK("order:create", n)
	created := cr.Order
	assert.Equal(t, orders.ProofPIN, created.Proof)
	assert.Equal(t, orders.StrategyNearest, created.Dispatch.Strategy)

	w := customer.mustOK("order:watch", map[string]any{"orderId": created.ID})
	var watched struct {
		PIN string `json:"pin"`
	}
	require.NoError(t, json.Unmarshal(w.Raw, &watched))
	require.Regexp(t, `^[0-9]{4}$`, watched.PIN)
	pin := regexp.MustCompile(`"` + watched.PIN + `"|"pin":`)

	var seen []json.RawMessage
	seen = append(seen, cr.Raw)
	call := func(u *user, event string, arg map[string]any) {
		seen = append(seen, u.mustOK(event, arg).Raw)
	}
	event := func(u *user) {
		seen = append(seen, u.next().Args[0])
	}
	event(vendor) // order:status ready
	event(d1)     // pickup:available
	call(vendor, "orders:list", map[string]any{})
	call(d1, "pickups:subscribe", map[string]any{})
	call(d1, "pickup:claim", map[string]any{"orderId": created.ID})
	call(d1, "order:picked_up", map[string]any{"orderId": created.ID})
	call(d1, "order:in_transit", map[string]any{"orderId": created.ID})
	d1.mustFail(orders.CodeInvalidArgument, "order:delivered", map[string]any{"orderId": created.ID})
	d1.mustFail(orders.CodeInvalidArgument, "order:delivered", map[string]any{"orderId": created.ID, "proof": map[string]any{"pin": "x"}})
	d1.mustFail(orders.CodeInvalidArgument, "order:delivered", map[string]any{"orderId": created.ID, "proof": "signed"})
	call(d1, "order:delivered", map[string]any{"orderId": created.ID, "proof": map[string]any{"pin": watched.PIN}})
	call(d1, "order:delivered", map[string]any{"orderId": created.ID}) // a retry stays harmless
	for range 4 {
		event(vendor) // assigned, picked_up, in_transit, delivered
	}
	event(vendor) // the thank-you
	for _, raw := range seen {
		assert.NotRegexp(t, pin, string(raw))
	}
	// What the service hands to REST has the PIN only in memory: its
	// JSON (GET /orders/{id}) has none.
	o, err := e.svc.Get(t.Context(), auth.Claims{Tenant: "acme", Role: orders.RoleVendor, Subject: "v1"}, created.ID)
	require.NoError(t, err)
	b, err := json.Marshal(o)
	require.NoError(t, err)
	assert.NotRegexp(t, pin, string(b))
}

// TestDispatcherActions: the service's dispatcher methods act on any
// vendor's order of the tenant; an assignment is told to its driver.
func TestDispatcherActions(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	d1 := e.connect(t, "acme", orders.RoleDriver, "d1")
	op := auth.Claims{Tenant: "acme", Role: orders.RoleDispatcher, Subject: "op1"}
	ctx := t.Context()
	created := vendor.mustOK("order:create", newOrder("c1")).Order
	vendor.expect("order:status", nil)

	_, err := e.svc.Assign(ctx, auth.Claims{Tenant: "acme", Role: orders.RoleVendor, Subject: "v1"}, created.ID, "d1")
	require.ErrorIs(t, err, orders.ErrForbidden, "only a dispatcher assigns")
	_, err = e.svc.Assign(ctx, op, created.ID, "d 1")
	require.ErrorIs(t, err, &orders.Error{Code: orders.CodeInvalidArgument})
	o, err := e.svc.Assign(ctx, op, created.ID, "d1")
	require.NoError(t, err)
	assert.Equal(t, orders.Assigned, o.Status)
	assert.Equal(t, "d1", o.DriverID)
	var st OrderStatus
	vendor.expect("order:status", &st)
	assert.Equal(t, orders.Assigned, st.Status)
	d1.expect("order:status", &st)
	assert.Equal(t, orders.Assigned, st.Status, "the assigned driver hears of it on its own feed")
	d1.mustOK("order:picked_up", map[string]any{"orderId": created.ID})
	vendor.expect("order:status", nil)

	_, err = e.svc.Unassign(ctx, op, created.ID, "wrong driver")
	require.ErrorIs(t, err, orders.ErrConflict, "not after pickup")

	second := vendor.mustOK("order:create", newOrder("c1")).Order
	vendor.expect("order:status", nil)
	_, err = e.svc.Assign(ctx, op, second.ID, "d1")
	require.NoError(t, err)
	o, err = e.svc.Unassign(ctx, op, second.ID, "rebalancing")
	require.NoError(t, err)
	assert.Equal(t, orders.Ready, o.Status)
	o, err = e.svc.Cancel(ctx, op, second.ID, "duplicate")
	require.NoError(t, err)
	assert.Equal(t, orders.Cancelled, o.Status)
	evs, err := e.svc.Events(ctx, op, second.ID)
	require.NoError(t, err)
	require.Len(t, evs, 4)
	assert.Equal(t, "d1", evs[2].FromDriverID)
	assert.Equal(t, "duplicate", evs[3].Reason)
}
