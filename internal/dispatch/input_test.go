package dispatch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestOrderCreateInput: coordinates are required on the socket as on
// REST (a missing or null one was stored as 0), text refuses NUL whatever
// the database, and items[].qty defaults to 1.
func TestOrderCreateInput(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	with := func(k string, v any) map[string]any {
		n := newOrder("c1")
		n[k] = v
		return n
	}
	place := func(fields map[string]any) map[string]any {
		p := map[string]any{"address": "1 Main St"}
		for k, v := range fields {
			p[k] = v
		}
		return p
	}
	noPickup := newOrder("c1")
	delete(noPickup, "pickup")
	tests := []struct {
		name      string
		give      map[string]any
		wantField string
	}{
		{"pickup missing", noPickup, "pickup"},
		{"pickup null", with("pickup", nil), "pickup"},
		{"pickup lat missing", with("pickup", place(map[string]any{"lng": 13.4})), "pickup.lat"},
		{"pickup lng null", with("pickup", place(map[string]any{"lat": 52.5, "lng": nil})), "pickup.lng"},
		{"dropoff lat null", with("dropoff", place(map[string]any{"lat": nil, "lng": 13.4})), "dropoff.lat"},
		{"dropoff lat a string", with("dropoff", place(map[string]any{"lat": "52.5", "lng": 13.4})), "dropoff.lat"},
		{"dropoff lng out of range", with("dropoff", place(map[string]any{"lat": 52.5, "lng": 181})), "dropoff.lng"},
		{"NUL in store", with("store", "Pizza\x00"), "store"},
		{"NUL in address", with("pickup", map[string]any{"address": "1\x00", "lat": 1, "lng": 2}), "pickup.address"},
		{"NUL in item", with("items", []map[string]any{{"name": "a\x00"}}), "items[].name"},
		{"NUL in idempotency key", with("idempotencyKey", "\x00"), "idempotencyKey"},
		{"NUL in customer", with("customerId", "c\x00"), "customerId"},
		{"NUL in zone", with("zone", "z\x00"), "zone"},
		{"qty 0", with("items", []map[string]any{{"name": "a", "qty": 0}}), "items[].qty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vendor.t = t
			r := vendor.call("order:create", tt.give)
			require.False(t, r.OK, "%s", r.Raw)
			assert.Equal(t, orders.CodeInvalidArgument, r.Error.Code)
			assert.Contains(t, r.Error.Message, tt.wantField)
		})
	}
	vendor.t = t
	assert.Empty(t, vendor.mustOK("orders:list").Orders, "nothing refused was created")

	n := newOrder("c1")
	n["items"] = []map[string]any{{"name": "margherita"}, {"name": "tiramisù", "qty": nil}, {"name": "cola", "qty": 6}}
	o := vendor.mustOK("order:create", n).Order
	assert.Equal(t, []orders.Item{{Name: "margherita", Qty: 1}, {Name: "tiramisù", Qty: 1}, {Name: "cola", Qty: 6}}, o.Items)
}

// TestLocationInput: a position without lat or lng is refused, not shown
// at 0,0.
func TestLocationInput(t *testing.T) {
	e := newEnv(t, Config{})
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	tests := []struct {
		name      string
		give      map[string]any
		wantField string
	}{
		{"empty", map[string]any{}, "lat"},
		{"lat null", map[string]any{"lat": nil, "lng": 13.4}, "lat"},
		{"lng missing", map[string]any{"lat": 52.5}, "lng"},
		{"lng a string", map[string]any{"lat": 52.5, "lng": "13.4"}, "lng"},
		{"lat out of range", map[string]any{"lat": -90.5, "lng": 13.4}, "lat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			driver.t = t
			r := driver.call("location:update", tt.give)
			require.False(t, r.OK, "%s", r.Raw)
			assert.Equal(t, orders.CodeInvalidArgument, r.Error.Code)
			assert.Contains(t, r.Error.Message, tt.wantField)
		})
	}
	driver.t = t
	driver.mustOK("location:update", map[string]any{"lat": 0, "lng": 0})
}
