//go:build unix

package strategies

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// fleetSize is how many drivers are on duty in each strategy's test.
const fleetSize = 50

// eventWait bounds the wait for an event the server owes a client now.
const eventWait = 10 * time.Second

// TestBroadcast: an order of the default strategy reaches every
// subscribed driver as pickup:available; of 50 drivers claiming it at
// once exactly one wins (a late claim too gets already_claimed), and
// every other one hears pickup:taken.
func TestBroadcast(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := startServer(t, bin, be)
		ds := drivers(t, s, fleetSize, true, nil)
		vendor := connect(t, s, orders.RoleVendor, "v1")
		o := create(t, vendor, "", "broadcast") // the default strategy

		for _, d := range ds {
			d.await("pickup:available", forOrder(o.ID), eventWait, "every zone subscriber hears a broadcast order")
		}

		codes := make([]string, len(ds))
		won := make([]json.RawMessage, len(ds))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, d := range ds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := d.request("pickup:claim", map[string]any{"orderId": o.ID})
				if err != nil {
					codes[i] = err.Error()
					return
				}
				codes[i], won[i] = code(res), res
			}()
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, c := range codes {
			switch c {
			case "":
				require.Equal(t, -1, winner, "two claims won: %s and %s", driverName(winner+1), driverName(i+1))
				winner = i
			case string(orders.CodeAlreadyClaimed):
			default:
				t.Fatalf("%s's claim answered %q, want ok or already_claimed", driverName(i+1), c)
			}
		}
		require.NotEqual(t, -1, winner, "no claim won")
		var res struct {
			Order order `json:"order"`
		}
		require.NoError(t, json.Unmarshal(won[winner], &res))
		assert.Equal(t, orders.Assigned, res.Order.Status)
		assert.Equal(t, driverName(winner+1), res.Order.DriverID)

		late := ds[(winner+1)%len(ds)]
		late.mustFail("pickup:claim", map[string]any{"orderId": o.ID}, string(orders.CodeAlreadyClaimed))

		for i, d := range ds {
			if i != winner {
				d.await("pickup:taken", forOrder(o.ID), eventWait, "a claimed order is taken for the other subscribers")
			}
		}
		vendor.await("order:status", func(b json.RawMessage) bool {
			var st struct {
				OrderID  string        `json:"orderId"`
				Status   orders.Status `json:"status"`
				DriverID string        `json:"driverId"`
			}
			return json.Unmarshal(b, &st) == nil && st.OrderID == o.ID && st.Status == orders.Assigned && st.DriverID == driverName(winner+1)
		}, eventWait, "the vendor hears who won")
	})
}
