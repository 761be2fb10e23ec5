//go:build unix

package browser

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestTrackingPageEdges: an unknown link shows "not found" (its JSON is a
// 404, the one error the page may log); an order that needs a PIN says
// so, and shows the PIN only from the link's #pin= fragment, which it
// then drops from the address bar.
func TestTrackingPageEdges(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t)

	unknown := b.openAllowing(t, "unknown link", srv.URL+"/track/no-such-token-0123456789", 390, 844, func(msg string) bool {
		return strings.Contains(msg, "404") && strings.Contains(msg, "/api/v1/track/")
	})
	unknown.awaitJS(`(e => e && !e.hidden && e.getClientRects().length > 0)(document.getElementById('not-found'))`, settle,
		"an unknown link says it is not found")

	v := connect(t, srv, orders.RoleVendor, "vendor-1")
	payload := newOrder("customer-1", "", pickup, dropoff)
	payload["proof"] = "pin"
	var res struct {
		Order order `json:"order"`
	}
	v.call("order:create", payload, &res)

	bare := b.open(t, "tracking page without the PIN", res.Order.TrackingURL, 390, 844)
	bare.awaitJS(`(e => e && !e.hidden && e.getClientRects().length > 0)(document.getElementById('pin-required'))`, settle,
		"the page says the order needs a PIN")
	assert.Empty(t, eval[string](bare, `document.getElementById('pin').textContent`), "no PIN without the fragment")

	withPIN := b.open(t, "tracking page with the PIN", res.Order.TrackingURL+"#pin=4321", 390, 844)
	withPIN.awaitJS(`(e => e && e.textContent.trim() === '4321' && e.getClientRects().length > 0)(document.getElementById('pin'))`, settle,
		"the page shows the PIN of the fragment")
	assert.NotContains(t, eval[string](withPIN, `location.href`), "4321", "the PIN leaves the address bar")
	withPIN.awaitJS(`!document.getElementById('pin-required').hidden`, settle, "the page also says a PIN is needed")
}
