package orders

import (
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
