//go:build unix

package browser

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// hostileText is markup a vendor could type as a store or an address.
const hostileText = `<img src=x id=injected onerror="window.injected=1">Bakery`

// TestMarkupStaysText: what vendors type reaches the pages as text, also
// in the maps' tooltips (Leaflet takes a string tooltip as HTML: a store
// named with markup put an element, and its handler, into the
// dispatcher's board and the customer's page).
func TestMarkupStaysText(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t)
	v := connect(t, srv, orders.RoleVendor, "vendor-1")
	payload := newOrder("customer-1", "", place{Address: hostileText, Lat: pickupLat, Lng: pickupLng}, dropoff)
	payload["store"] = hostileText
	var res struct {
		Order order `json:"order"`
	}
	v.call("order:create", payload, &res)

	// hover opens a marker's tooltip as a pointer would.
	hover := func(tb *tab, selector string) {
		tb.awaitJS(fmt.Sprintf(`document.querySelector(%q)`, selector), settle, "the marker is drawn")
		eval[bool](tb, fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new MouseEvent('mouseover', {bubbles: true})) || true`, selector))
		tb.awaitJS(`document.querySelector('.leaflet-tooltip')`, settle, "the tooltip opens")
	}
	check := func(tb *tab, page string) {
		assert.Contains(t, eval[string](tb, `document.querySelector('.leaflet-tooltip').textContent`), "<img", "%s: the tooltip shows the markup as text", page)
		assert.False(t, eval[bool](tb, `document.getElementById('injected') !== null`), "%s: no element made of a vendor's text", page)
		assert.False(t, eval[bool](tb, `window.injected === 1`), "%s: no handler of a vendor's text ran", page)
	}

	track := b.open(t, "tracking page", res.Order.TrackingURL, 1400, 900)
	hover(track, `#map .map-pickup`)
	check(track, "tracking page")

	board := b.open(t, "board", srv.URL+"/console/#token="+token(t, orders.RoleDispatcher, "dispatcher-1"), 1400, 900)
	board.awaitConnState("connected", settle, "the board signs in")
	hover(board, fmt.Sprintf(`#map [data-order-id=%q]`, res.Order.ID))
	check(board, "board")
	assert.False(t, eval[bool](board, `document.getElementById('injected') !== null`), "board: the order card shows text too")
}
