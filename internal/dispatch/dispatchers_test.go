package dispatch

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// boardReply is the board:subscribe result.
type boardReply struct {
	OK      bool           `json:"ok"`
	Orders  []orders.Order `json:"orders"`
	Drivers []BoardDriver  `json:"drivers"`
}

func (u *user) board(arg any) boardReply {
	u.t.Helper()
	r := u.mustOK(ClientBoardSubscribe, arg)
	var b boardReply
	require.NoError(u.t, json.Unmarshal(r.Raw, &b))
	return b
}

// expectBoardOrder skips to the next board:order and returns its order.
func (u *user) expectBoardOrder() orders.Order {
	u.t.Helper()
	var m BoardOrder
	u.expect(string(EventBoardOrder), &m)
	return m.Order
}

func TestDispatcherBoard(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	done := vendor.mustOK(ClientOrderCreate, newOrder("c1")).Order
	active := vendor.mustOK(ClientOrderCreate, newOrder("c2")).Order
	for _, step := range []string{ClientPickupClaim, ClientOrderPickedUp, ClientOrderInTransit, ClientOrderDelivered} {
		driver.mustOK(step, map[string]any{"orderId": done.ID})
	}
	driver.mustOK(ClientPickupClaim, map[string]any{"orderId": active.ID})
	south := newOrder("c3")
	south["zone"] = "south"
	ready := vendor.mustOK(ClientOrderCreate, south).Order

	op := e.connect(t, "acme", orders.RoleDispatcher, "op1")
	all := op.board(map[string]any{})
	require.Equal(t, []string{active.ID, ready.ID}, ids(all.Orders), "active orders only, oldest first")
	require.Equal(t, []BoardDriver{{DriverID: "d1", OnDuty: false, ActiveOrders: 1}}, all.Drivers, "never went on duty, but carries an order")

	// Live: every change of the tenant's orders, the whole order each time.
	driver.mustOK(ClientOrderPickedUp, map[string]any{"orderId": active.ID})
	got := op.expectBoardOrder()
	require.Equal(t, active.ID, got.ID)
	require.Equal(t, orders.PickedUp, got.Status)
	created := vendor.mustOK(ClientOrderCreate, newOrder("c4")).Order
	require.Equal(t, created.ID, op.expectBoardOrder().ID)

	// A zone's board lists and hears that zone only.
	zop := e.connect(t, "acme", orders.RoleDispatcher, "op2")
	require.Equal(t, []string{ready.ID}, ids(zop.board(map[string]any{"zone": "south"}).Orders))
	vendor.mustOK(ClientOrderCreate, newOrder("c5")) // zone north
	zop.quiet(300 * time.Millisecond)
}

func TestDispatcherBoardIsTenantScoped(t *testing.T) {
	e := newEnv(t, Config{})
	other := e.connect(t, "other", orders.RoleDispatcher, "op1")
	require.Empty(t, other.board(map[string]any{}).Orders)
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	vendor.mustOK(ClientOrderCreate, newOrder("c1"))
	other.quiet(300 * time.Millisecond)
}

func TestBoardRefusesOtherRolesAndBadInput(t *testing.T) {
	e := newEnv(t, Config{})
	op := e.connect(t, "acme", orders.RoleDispatcher, "op1")
	op.mustFail(orders.CodeInvalidArgument, ClientBoardSubscribe, map[string]any{"zone": "no spaces allowed"})
	op.mustFail(orders.CodeInvalidArgument, ClientBoardSubscribe, "not an object")
	_, _, err := e.svc.Board(t.Context(), auth.Claims{Tenant: "acme", Role: orders.RoleVendor, Subject: "v1"}, "")
	require.ErrorIs(t, err, orders.ErrForbidden)
}

func ids(list []orders.Order) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.ID
	}
	return out
}

func TestDispatcherAssignsUnassignsCancels(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	op := e.connect(t, "acme", orders.RoleDispatcher, "op1")
	o := vendor.mustOK(ClientOrderCreate, newOrder("c1")).Order

	op.mustFail(orders.CodeInvalidArgument, ClientOrderAssign, map[string]any{"orderId": o.ID, "driverId": "no spaces"})
	op.mustFail(orders.CodeInvalidArgument, ClientOrderAssign, map[string]any{"orderId": "nope", "driverId": "d1"})
	got := op.mustOK(ClientOrderAssign, map[string]any{"orderId": o.ID, "driverId": "d1"}).Order
	require.Equal(t, orders.Assigned, got.Status)
	require.Equal(t, "d1", got.DriverID)
	// The driver may now carry it on.
	driver.mustOK(ClientOrderPickedUp, map[string]any{"orderId": o.ID})
	op.mustFail(orders.CodeConflict, ClientOrderUnassign, map[string]any{"orderId": o.ID, "reason": "too late"})

	o2 := vendor.mustOK(ClientOrderCreate, newOrder("c2")).Order
	op.mustOK(ClientOrderAssign, map[string]any{"orderId": o2.ID, "driverId": "d1"})
	back := op.mustOK(ClientOrderUnassign, map[string]any{"orderId": o2.ID, "reason": "driver unwell"}).Order
	require.Equal(t, orders.Ready, back.Status)
	require.Empty(t, back.DriverID)
	require.Equal(t, orders.Cancelled, op.mustOK(ClientOrderCancel, map[string]any{"orderId": o2.ID, "reason": "shop closed"}).Order.Status)

	// Another tenant's order looks missing.
	other := e.connect(t, "other", orders.RoleDispatcher, "op1")
	other.mustFail(orders.CodeNotFound, ClientOrderCancel, map[string]any{"orderId": o.ID})
}

// The board knows the on-duty drivers and follows their duty and
// positions live (board:driver).
func TestBoardFollowsDrivers(t *testing.T) {
	e := newEnv(t, Config{})
	op := e.connect(t, "acme", orders.RoleDispatcher, "op1")
	require.Empty(t, op.board(map[string]any{"zone": "north"}).Drivers)
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	driver.mustOK(ClientDriverDuty, map[string]any{"onDuty": true})

	var d BoardDriverUpdate
	op.expect(string(EventBoardDriver), &d)
	require.Equal(t, "d1", d.DriverID)
	require.True(t, d.OnDuty)
	require.Nil(t, d.Lat, "no position yet")

	require.NoError(t, driver.c.Emit(driver.ns, ClientLocationUpdate, map[string]any{"lat": 52.5, "lng": 13.4}))
	op.expect(string(EventBoardDriver), &d)
	require.NotNil(t, d.Lat)
	require.InDelta(t, 52.5, *d.Lat, 1e-9)

	require.Eventually(t, func() bool {
		ds := op.board(map[string]any{}).Drivers
		return len(ds) == 1 && ds[0].OnDuty && ds[0].Lat != nil
	}, 3*time.Second, 50*time.Millisecond)

	// Another tenant's board hears nothing of it.
	other := e.connect(t, "other", orders.RoleDispatcher, "op1")
	require.Empty(t, other.board(map[string]any{}).Drivers)
	driver.mustOK(ClientDriverDuty, map[string]any{"onDuty": false})
	other.quiet(300 * time.Millisecond)
}

// A socket has one board at a time: subscribing to another zone leaves
// the last one, so the rooms a socket holds stay bounded.
func TestBoardSubscribeReplacesTheLastBoard(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	op := e.connect(t, "acme", orders.RoleDispatcher, "op1")
	op.board(map[string]any{"zone": "north"})
	op.board(map[string]any{"zone": "south"})
	vendor.mustOK(ClientOrderCreate, newOrder("c1")) // zone north
	op.quiet(300 * time.Millisecond)
	south := newOrder("c2")
	south["zone"] = "south"
	created := vendor.mustOK(ClientOrderCreate, south).Order
	require.Equal(t, created.ID, op.expectBoardOrder().ID)
}
