package dispatch

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// drain reads c's events until it closes, acking those named in acked
// and counting the order:delivered ones.
func drain(c *sioclient.Client, acked map[string]bool, delivered *atomic.Int64) {
	for {
		select {
		case ev := <-c.Events:
			if acked[ev.Name] {
				_ = c.Ack(ev)
			}
			if ev.Name == "order:delivered" {
				delivered.Add(1)
			}
		case <-c.Done():
			return
		}
	}
}

// TestClientAckingOneEventTypeKeepsReceiving: a vendor that acks only
// order:delivered, never the five order:status before each, gets every
// order:delivered. Without cumulative acks its window (64) fills after
// about 11 orders; without dropping the socket's answered-around acks its
// MaxPendingAcks (256) fills after about 43 and every later send fails.
func TestClientAckingOneEventTypeKeepsReceiving(t *testing.T) {
	e := newEnv(t, Config{EventsPerSecond: 1e6, EventBurst: 1e6})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	var delivered, ignored atomic.Int64
	go drain(vendor.c, map[string]bool{"order:delivered": true}, &delivered)
	go drain(driver.c, nil, &ignored)

	const n = 80 // 480 vendor events: past both limits
	for i := range n {
		o := vendor.mustOK("order:create", newOrder(fmt.Sprintf("c%d", i))).Order
		for _, step := range []string{"pickup:claim", "order:picked_up", "order:in_transit", "order:delivered"} {
			driver.mustOK(step, map[string]any{"orderId": o.ID})
		}
	}
	ok := assert.Eventually(t, func() bool { return delivered.Load() == n }, 10*time.Second, 5*time.Millisecond)
	require.True(t, ok, "got %d order:delivered of %d", delivered.Load(), n)
}
