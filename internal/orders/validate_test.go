package orders

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validOrder() NewOrder {
	return NewOrder{
		Store: "Pizza Nord", CustomerID: "c-1", Zone: "north",
		Pickup:  Place{Address: "1 Main St", Lat: 52.52, Lng: 13.40},
		Dropoff: Place{Address: "9 Side St", Lat: 52.50, Lng: 13.42},
		Items:   []Item{{Name: "margherita", Qty: 2}},
	}
}

func TestNewOrderValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*NewOrder)
		ok     bool
	}{
		{"valid", func(*NewOrder) {}, true},
		{"no items", func(n *NewOrder) { n.Items = nil }, true},
		{"empty store", func(n *NewOrder) { n.Store = "  " }, false},
		{"long store", func(n *NewOrder) { n.Store = strings.Repeat("x", MaxTextLen+1) }, false},
		{"customer with dot", func(n *NewOrder) { n.CustomerID = "a.b" }, false},
		{"customer wildcard", func(n *NewOrder) { n.CustomerID = "*" }, false},
		{"empty customer", func(n *NewOrder) { n.CustomerID = "" }, false},
		{"zone with space", func(n *NewOrder) { n.Zone = "a b" }, false},
		{"lat out of range", func(n *NewOrder) { n.Pickup.Lat = 91 }, false},
		{"lng NaN", func(n *NewOrder) { n.Dropoff.Lng = math.NaN() }, false},
		{"no address", func(n *NewOrder) { n.Dropoff.Address = "" }, false},
		{"zero qty", func(n *NewOrder) { n.Items[0].Qty = 0 }, false},
		{"too many items", func(n *NewOrder) { n.Items = make([]Item, MaxItems+1) }, false},
		{"invalid utf8", func(n *NewOrder) { n.Store = "\xff" }, false},
		{"long idempotency key", func(n *NewOrder) { n.IdempotencyKey = strings.Repeat("k", MaxIdemKeyLen+1) }, false},
		{"lng infinite", func(n *NewOrder) { n.Pickup.Lng = math.Inf(1) }, false},
		{"edge coordinates", func(n *NewOrder) { n.Pickup.Lat, n.Pickup.Lng = -90, 180 }, true},
		// PostgreSQL refuses NUL in text, SQLite stores it: refused
		// here, the same on every backend.
		{"NUL in store", func(n *NewOrder) { n.Store = "Pizza\x00Nord" }, false},
		{"NUL in pickup address", func(n *NewOrder) { n.Pickup.Address = "1 Main\x00St" }, false},
		{"NUL in dropoff address", func(n *NewOrder) { n.Dropoff.Address = "\x00" }, false},
		{"NUL in item name", func(n *NewOrder) { n.Items[0].Name = "a\x00" }, false},
		{"NUL in idempotency key", func(n *NewOrder) { n.IdempotencyKey = "k\x00" }, false},
		{"NUL in customer", func(n *NewOrder) { n.CustomerID = "c\x00" }, false},
		{"NUL in zone", func(n *NewOrder) { n.Zone = "z\x00" }, false},
		{"invalid utf8 in idempotency key", func(n *NewOrder) { n.IdempotencyKey = "\xff" }, false},
		{"strategy broadcast", func(n *NewOrder) { n.Dispatch.Strategy = StrategyBroadcast }, true},
		{"strategy nearest", func(n *NewOrder) { n.Dispatch.Strategy = StrategyNearest }, true},
		{"strategy auto", func(n *NewOrder) { n.Dispatch.Strategy = StrategyAuto }, true},
		{"unknown strategy", func(n *NewOrder) { n.Dispatch.Strategy = "random" }, false},
		{"proof pin", func(n *NewOrder) { n.Proof = ProofPIN }, true},
		{"unknown proof", func(n *NewOrder) { n.Proof = "photo" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := validOrder()
			tt.mutate(&n)
			err := n.Validate()
			if tt.ok {
				require.NoError(t, err)
				return
			}
			code, _ := CodeOf(err)
			assert.Equal(t, CodeInvalidArgument, code)
		})
	}
}

func TestIDs(t *testing.T) {
	a, b := NewID(), NewID()
	assert.True(t, ValidID(a))
	assert.Less(t, a, b, "ids sort by creation time")
	for _, bad := range []string{"", "x", strings.ToUpper(a), "../../etc", a + "0", "tenant.*"} {
		assert.False(t, ValidID(bad), bad)
	}
	assert.True(t, ValidName("tenant_A-1"))
	for _, bad := range []string{"", "a.b", "a b", "a>", strings.Repeat("a", 65), "é"} {
		assert.False(t, ValidName(bad), bad)
	}
}

// TestDecodeNewOrder decodes client JSON the way both edges do (into
// NewOrderInput) and validates it: a coordinate left out or null is
// refused with a message naming it, never stored as 0.
func TestDecodeNewOrder(t *testing.T) {
	place := func(fields string) string { return `{"address":"1 Main St"` + fields + `}` }
	order := func(pickup, dropoff, items string) string {
		return `{"store":"s","customerId":"c1","pickup":` + pickup + `,"dropoff":` + dropoff + `,"items":` + items + `}`
	}
	good := place(`,"lat":52.5,"lng":13.4`)
	tests := []struct {
		name      string
		give      string
		wantField string // named in the error; "" for success
		wantQty   []int
	}{
		{"valid", order(good, good, `[{"name":"x","qty":2}]`), "", []int{2}},
		{"zero coordinates are a place", order(place(`,"lat":0,"lng":0`), good, `[]`), "", nil},
		{"pickup missing", `{"store":"s","customerId":"c1","dropoff":` + good + `}`, "pickup is required", nil},
		{"pickup null", order(`null`, good, `[]`), "pickup is required", nil},
		{"pickup lat missing", order(place(`,"lng":13.4`), good, `[]`), "pickup.lat", nil},
		{"pickup lng null", order(place(`,"lat":52.5,"lng":null`), good, `[]`), "pickup.lng", nil},
		{"dropoff lat null", order(good, place(`,"lat":null,"lng":13.4`), `[]`), "dropoff.lat", nil},
		{"dropoff empty", order(good, `{}`, `[]`), "dropoff is required", nil},
		{"dropoff without address", order(good, `{"lat":1,"lng":2}`, `[]`), "dropoff.address", nil},
		{"dropoff lng out of range", order(good, place(`,"lat":1,"lng":180.5`), `[]`), "dropoff.lng", nil},
		{"qty defaults to 1", order(good, good, `[{"name":"x"},{"name":"y","qty":null},{"name":"z","qty":3}]`), "", []int{1, 1, 3}},
		{"qty 0 is refused", order(good, good, `[{"name":"x","qty":0}]`), "items[].qty", nil},
		{"NUL in store", `{"store":"a\u0000b","customerId":"c1","pickup":` + good + `,"dropoff":` + good + `}`, "store", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NewOrderInput()
			require.NoError(t, json.Unmarshal([]byte(tt.give), &n))
			err := n.Validate()
			if tt.wantField == "" {
				require.NoError(t, err)
				var qty []int
				for _, it := range n.Items {
					qty = append(qty, it.Qty)
				}
				assert.Equal(t, tt.wantQty, qty)
				return
			}
			code, msg := CodeOf(err)
			assert.Equal(t, CodeInvalidArgument, code)
			assert.Contains(t, msg, tt.wantField)
		})
	}
}

func TestCheckPoint(t *testing.T) {
	nan := NoCoordinate()
	tests := []struct {
		name      string
		lat, lng  float64
		wantField string
	}{
		{"valid", 52.5, 13.4, ""},
		{"corners", -90, -180, ""},
		{"lat unset", nan, 13.4, "lat is required"},
		{"lng unset", 52.5, nan, "lng is required"},
		{"lat too big", 90.0001, 0, "lat must be"},
		{"lng too small", 0, -180.0001, "lng must be"},
		{"lat infinite", math.Inf(-1), 0, "lat must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPoint("", tt.lat, tt.lng)
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			code, msg := CodeOf(err)
			assert.Equal(t, CodeInvalidArgument, code)
			assert.Contains(t, msg, tt.wantField)
		})
	}
}

func TestCheckText(t *testing.T) {
	require.NoError(t, CheckText("reason", "too far", MaxTextLen))
	for _, bad := range []string{"", "  ", "a\x00b", "\xff", strings.Repeat("x", MaxTextLen+1)} {
		err := CheckText("reason", bad, MaxTextLen)
		code, msg := CodeOf(err)
		assert.Equal(t, CodeInvalidArgument, code, "%q", bad)
		assert.Contains(t, msg, "reason", "%q", bad)
	}
}

func TestStrategyOrDefault(t *testing.T) {
	n := validOrder()
	assert.Equal(t, StrategyBroadcast, n.StrategyOrDefault())
	n.Dispatch.Strategy = StrategyAuto
	assert.Equal(t, StrategyAuto, n.StrategyOrDefault())
}
