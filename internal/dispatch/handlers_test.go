package dispatch

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

func TestConnectAuthorisation(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name string
		ns   string
		auth any
		code string
	}{
		{"no auth", "/drivers", nil, "unauthorized"},
		{"empty token", "/drivers", map[string]string{"token": ""}, "unauthorized"},
		{"garbage token", "/drivers", map[string]string{"token": "x.y.z"}, "unauthorized"},
		{"token not a string", "/drivers", map[string]any{"token": 42}, "unauthorized"},
		{"vendor token on drivers", "/drivers", map[string]string{"token": token(t, "acme", orders.RoleVendor, "v1")}, "forbidden"},
		{"driver token on customers", "/customers", map[string]string{"token": token(t, "acme", orders.RoleDriver, "d1")}, "forbidden"},
		{"driver token", "/drivers", map[string]string{"token": token(t, "acme", orders.RoleDriver, "d1")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := sioclient.Dial(ctx, e.url)
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Connect(ctx, tt.ns, tt.auth)
			if tt.code == "" {
				require.NoError(t, err)
				return
			}
			var ce *sioclient.ConnectError
			require.ErrorAs(t, err, &ce)
			assert.JSONEq(t, `{"code":"`+tt.code+`"}`, string(ce.Data))
			assert.NotContains(t, ce.Message, "x.y.z")
		})
	}
}

// TestDispatchStory plays the contract's story over real sockets.
func TestDispatchStory(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	customer := e.connect(t, "acme", orders.RoleCustomer, "c1")
	nosy := e.connect(t, "acme", orders.RoleCustomer, "c2")
	otherTenantDriver := e.connect(t, "globex", orders.RoleDriver, "d1")
	otherTenantVendor := e.connect(t, "globex", orders.RoleVendor, "v1")
	const drivers = 10
	ds := make([]*user, drivers)
	for i := range ds {
		ds[i] = e.connect(t, "acme", orders.RoleDriver, "d"+string(rune('a'+i)))
		zone := map[string]any{}
		if i%2 == 1 {
			zone["zone"] = "north"
		}
		r := ds[i].mustOK("pickups:subscribe", zone)
		assert.Empty(t, r.Pickups)
	}
	otherTenantDriver.mustOK("pickups:subscribe", map[string]any{})

	created := vendor.mustOK("order:create", newOrder("c1")).Order
	assert.Equal(t, orders.Ready, created.Status)
	assert.Equal(t, "acme", created.Tenant)
	var st OrderStatus
	vendor.expect("order:status", &st)
	assert.Equal(t, orders.Ready, st.Status)

	for _, d := range ds {
		var pa PickupAvailable
		d.expect("pickup:available", &pa)
		assert.Equal(t, created.ID, pa.Order.ID)
	}

	w := customer.mustOK("order:watch", map[string]any{"orderId": created.ID})
	assert.Equal(t, created.ID, w.Order.ID)
	require.Len(t, w.Events, 1)
	nosy.mustFail(orders.CodeForbidden, "order:watch", map[string]any{"orderId": created.ID})
	otherTenant := e.connect(t, "globex", orders.RoleCustomer, "c1")
	otherTenant.mustFail(orders.CodeNotFound, "order:watch", map[string]any{"orderId": created.ID})

	// Every driver claims at once: exactly one wins.
	var wg sync.WaitGroup
	results := make([]reply, drivers)
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = d.call("pickup:claim", map[string]any{"orderId": created.ID})
		}()
	}
	wg.Wait()
	var winner *user
	lost := 0
	for i, r := range results {
		if r.OK {
			require.Nil(t, winner, "two winners")
			winner = ds[i]
			continue
		}
		assert.Equal(t, orders.CodeAlreadyClaimed, r.Error.Code)
		lost++
	}
	require.NotNil(t, winner)
	assert.Equal(t, drivers-1, lost)
	for _, d := range ds {
		var pt PickupTaken
		d.expect("pickup:taken", &pt)
		assert.Equal(t, created.ID, pt.OrderID)
	}

	loser := ds[0]
	if loser == winner {
		loser = ds[1]
	}
	loser.mustFail(orders.CodeForbidden, "order:picked_up", map[string]any{"orderId": created.ID})
	winner.mustFail(orders.CodeConflict, "order:delivered", map[string]any{"orderId": created.ID})

	steps := []string{"order:picked_up", "order:in_transit"}
	for _, step := range steps {
		winner.mustOK(step, map[string]any{"orderId": created.ID})
	}
	winner.c.Emit("/drivers", "location:update", map[string]any{"lat": 52.51, "lng": 13.41})
	winner.mustOK("order:delivered", map[string]any{"orderId": created.ID, "proof": "signed"})
	winner.mustOK("order:delivered", map[string]any{"orderId": created.ID}) // a retry is harmless

	// Positions are best effort and take a faster path than the durable
	// statuses: only the statuses' order is promised.
	var statuses []orders.Status
	var locs []DriverLocation
	var lastSeq uint64
	for len(statuses) < 4 {
		ev := customer.next()
		switch ev.Name {
		case "order:status":
			var s struct {
				OrderStatus
				Seq uint64 `json:"seq"`
			}
			require.NoError(t, json.Unmarshal(ev.Args[0], &s))
			assert.Equal(t, lastSeq+1, s.Seq, "per-recipient seq")
			lastSeq = s.Seq
			statuses = append(statuses, s.Status)
		case "driver:location":
			var loc DriverLocation
			require.NoError(t, json.Unmarshal(ev.Args[0], &loc))
			locs = append(locs, loc)
		default:
			t.Fatalf("customer got %s", ev.Name)
		}
	}
	assert.Equal(t, []orders.Status{orders.Assigned, orders.PickedUp, orders.InTransit, orders.Delivered}, statuses)
	if len(locs) == 0 {
		var loc DriverLocation
		customer.expect("driver:location", &loc)
		locs = append(locs, loc)
	}
	require.Len(t, locs, 1)
	assert.Equal(t, created.ID, locs[0].OrderID)
	assert.InDelta(t, 52.51, locs[0].Lat, 1e-9)
	customer.quiet(100 * time.Millisecond)

	want := []orders.Status{orders.Assigned, orders.PickedUp, orders.InTransit}

	for _, s := range want {
		vendor.expect("order:status", &st)
		assert.Equal(t, s, st.Status)
	}
	vendor.expect("order:status", &st)
	assert.Equal(t, orders.Delivered, st.Status)
	var thanks OrderDelivered
	vendor.expect("order:delivered", &thanks)
	assert.Equal(t, created.ID, thanks.OrderID)
	assert.Equal(t, st.DriverID, thanks.DriverID)

	evs := customer.mustOK("order:watch", map[string]any{"orderId": created.ID}).Events
	require.Len(t, evs, 5)
	for i, ev := range evs {
		assert.Equal(t, i+1, ev.Version)
	}
	list := vendor.mustOK("orders:list", map[string]any{"status": "delivered"}).Orders
	require.Len(t, list, 1)

	// Tenant globex heard nothing of acme.
	nosy.quiet(50 * time.Millisecond)
	otherTenant.quiet(10 * time.Millisecond)
	otherTenantDriver.quiet(10 * time.Millisecond)
	otherTenantVendor.quiet(10 * time.Millisecond)
	assert.Empty(t, otherTenantVendor.mustOK("orders:list").Orders)
}

func TestIdempotentCreateAndCancel(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	other := e.connect(t, "acme", orders.RoleVendor, "v2")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	driver.mustOK("pickups:subscribe")

	n := newOrder("c1")
	n["idempotencyKey"] = "k1"
	first := vendor.mustOK("order:create", n).Order
	second := vendor.mustOK("order:create", n).Order
	assert.Equal(t, first, second)
	driver.expect("pickup:available", nil)

	other.mustFail(orders.CodeNotFound, "order:cancel", map[string]any{"orderId": first.ID})
	c := vendor.mustOK("order:cancel", map[string]any{"orderId": first.ID}).Order
	assert.Equal(t, orders.Cancelled, c.Status)
	driver.expect("pickup:taken", nil)
	driver.quiet(50 * time.Millisecond) // the idempotent repeat announced nothing more
	driver.mustFail(orders.CodeConflict, "pickup:claim", map[string]any{"orderId": first.ID})
}

func TestBadPayloadsGetErrorAcks(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	customer := e.connect(t, "acme", orders.RoleCustomer, "c1")
	bad := newOrder("c1")
	bad["pickup"] = map[string]any{"address": "x", "lat": 91, "lng": 0}
	tests := []struct {
		u     *user
		event string
		args  []any
		code  orders.Code
	}{
		{vendor, "order:create", nil, orders.CodeInvalidArgument},
		{vendor, "order:create", []any{"a string"}, orders.CodeInvalidArgument},
		{vendor, "order:create", []any{[]int{1}}, orders.CodeInvalidArgument},
		{vendor, "order:create", []any{map[string]any{"store": 5}}, orders.CodeInvalidArgument},
		{vendor, "order:create", []any{bad}, orders.CodeInvalidArgument},
		{vendor, "order:cancel", []any{map[string]any{"orderId": "../../x"}}, orders.CodeInvalidArgument},
		{vendor, "order:cancel", []any{map[string]any{"orderId": orders.NewID()}}, orders.CodeNotFound},
		{vendor, "orders:list", []any{map[string]any{"status": "lost"}}, orders.CodeInvalidArgument},
		{driver, "pickups:subscribe", []any{map[string]any{"zone": "a.>"}}, orders.CodeInvalidArgument},
		{driver, "pickup:claim", []any{map[string]any{"orderId": 7}}, orders.CodeInvalidArgument},
		{driver, "pickup:claim", []any{map[string]any{}}, orders.CodeInvalidArgument},
		{driver, "location:update", []any{map[string]any{"lat": "north"}}, orders.CodeInvalidArgument},
		{driver, "location:update", []any{map[string]any{"lat": 100, "lng": 0}}, orders.CodeInvalidArgument},
		{customer, "order:watch", []any{map[string]any{"orderId": "t:acme:order:x"}}, orders.CodeInvalidArgument},
		{customer, "order:watch", []any{nil}, orders.CodeInvalidArgument},
		{customer, "order:unwatch", []any{map[string]any{"orderId": ""}}, orders.CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.u.ns+" "+tt.event, func(t *testing.T) {
			tt.u.t = t
			tt.u.mustFail(tt.code, tt.event, tt.args...)
		})
	}
	// Every connection survived.
	vendor.t, driver.t, customer.t = t, t, t
	vendor.mustOK("orders:list")
	driver.mustOK("pickups:subscribe")
	customer.mustOK("order:unwatch", map[string]any{"orderId": orders.NewID()})
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Config{EventsPerSecond: 1, EventBurst: 3})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	for range 3 {
		vendor.mustOK("orders:list")
	}
	vendor.mustFail(orders.CodeRateLimited, "orders:list")
}
