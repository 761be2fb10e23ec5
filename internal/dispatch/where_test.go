package dispatch

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// locationOf waits for the next driver:location, skipping (and
// acknowledging) the durable events in between.
func (u *user) locationOf() DriverLocation {
	u.t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case ev := <-u.c.Events:
			_ = u.c.Ack(ev)
			if ev.Name != string(EventDriverLocation) {
				continue
			}
			var loc DriverLocation
			require.NoError(u.t, json.Unmarshal(ev.Args[0], &loc))
			return loc
		case <-deadline:
			u.t.Fatal("no driver:location within 3s")
		}
	}
}

// noLocation asserts that no driver:location arrives for d; other
// events are acknowledged and skipped.
func (u *user) noLocation(d time.Duration) {
	u.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-u.c.Events:
			_ = u.c.Ack(ev)
			require.NotEqual(u.t, string(EventDriverLocation), ev.Name, "args: %s", ev.Args)
		case <-deadline:
			return
		}
	}
}

// TestLocationPerDriver: a position reaches the rooms of the orders the
// driver carries whichever of its sockets sends it: a socket opened
// before the claim shows it from assigned, and a socket opened while
// the order was carried stops showing it once it is delivered.
func TestLocationPerDriver(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	customer := e.connect(t, "acme", orders.RoleCustomer, "c1")
	early := e.connect(t, "acme", orders.RoleDriver, "d1") // before the claim
	phone := e.connect(t, "acme", orders.RoleDriver, "d1")

	created := vendor.mustOK("order:create", newOrder("c1")).Order
	customer.mustOK("order:watch", map[string]any{"orderId": created.ID})
	phone.mustOK("pickup:claim", map[string]any{"orderId": created.ID})

	here := map[string]any{"lat": 52.51, "lng": 13.41}
	hereP := geo.Point{Lat: 52.51, Lng: 13.41}
	eta := geo.Straight{SpeedMPS: 8.3, DetourFactor: 1.3}

	early.mustOK("location:update", here)
	loc := customer.locationOf()
	require.Equal(t, created.ID, loc.OrderID)
	m, s := eta.Estimate(hereP, geo.Point{Lat: created.Pickup.Lat, Lng: created.Pickup.Lng})
	require.NotNil(t, loc.DistanceMeters, "assigned: distance to the pickup")
	require.InDelta(t, m, *loc.DistanceMeters, 0.5)
	require.Equal(t, s, *loc.ETASeconds)

	phone.mustOK("order:picked_up", map[string]any{"orderId": created.ID})
	early.mustOK("location:update", here)
	loc = customer.locationOf()
	m, s = eta.Estimate(hereP, geo.Point{Lat: created.Dropoff.Lat, Lng: created.Dropoff.Lng})
	require.InDelta(t, m, *loc.DistanceMeters, 0.5, "picked up: distance to the dropoff")
	require.Equal(t, s, *loc.ETASeconds)

	late := e.connect(t, "acme", orders.RoleDriver, "d1") // while carried
	phone.mustOK("order:in_transit", map[string]any{"orderId": created.ID})
	phone.mustOK("order:delivered", map[string]any{"orderId": created.ID})
	late.mustOK("location:update", here)
	customer.noLocation(300 * time.Millisecond)
}

func TestDriverDuty(t *testing.T) {
	e := newEnv(t, Config{})
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	tests := []struct {
		name string
		args []any
		code orders.Code // "" for success
		want bool
	}{
		{"on duty", []any{map[string]any{"onDuty": true}}, "", true},
		{"again: a retry is harmless", []any{map[string]any{"onDuty": true}}, "", true},
		{"off duty", []any{map[string]any{"onDuty": false}}, "", false},
		{"missing onDuty", []any{map[string]any{}}, orders.CodeInvalidArgument, false},
		{"null onDuty", []any{map[string]any{"onDuty": nil}}, orders.CodeInvalidArgument, false},
		{"string onDuty", []any{map[string]any{"onDuty": "yes"}}, orders.CodeInvalidArgument, false},
		{"no payload", nil, orders.CodeInvalidArgument, false},
		{"array payload", []any{[]any{true}}, orders.CodeInvalidArgument, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code != "" {
				driver.mustFail(tt.code, "driver:duty", tt.args...)
				return
			}
			r := driver.mustOK("driver:duty", tt.args...)
			var got struct {
				OnDuty *bool `json:"onDuty"`
			}
			require.NoError(t, json.Unmarshal(r.Raw, &got))
			require.NotNil(t, got.OnDuty, "%s", r.Raw)
			require.Equal(t, tt.want, *got.OnDuty)
		})
	}
}
