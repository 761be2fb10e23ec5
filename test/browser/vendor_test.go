//go:build unix

package browser

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// postOrder has a vendor post the story's order with strategy nearest.
func postOrder(t *testing.T, _ *browser, srv *testproc.Proc) order {
	t.Helper()
	v := connect(t, srv, orders.RoleVendor, "vendor-1")
	var res struct {
		Order order `json:"order"`
	}
	v.call("order:create", newOrder("customer-1", "nearest", pickup, dropoff), &res)
	require.NotEmpty(t, res.Order.TrackingURL, "the vendor gets the order's tracking link")
	return res.Order
}
