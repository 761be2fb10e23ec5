package dispatch

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

func (u *user) stats() BoardStats {
	u.t.Helper()
	var r struct {
		Stats BoardStats `json:"stats"`
	}
	require.NoError(u.t, json.Unmarshal(u.mustOK(ClientBoardStats, map[string]any{}).Raw, &r))
	return r.Stats
}

// TestBoardStatsShowsTheTenantsStalledRecipients: a vendor that acks
// none of its events fills its window and shows up as stalled on its
// tenant's board:stats, with the oldest unacked event; another tenant's
// dispatcher sees nothing of it.
func TestBoardStatsShowsTheTenantsStalledRecipients(t *testing.T) {
	e := newEnvDelivery(t, Config{}, delivery.Config{Window: 2, StallAfter: 100 * time.Millisecond},
		zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)))
	op := e.connect(t, "acme", orders.RoleDispatcher, "op1")
	other := e.connect(t, "other", orders.RoleDispatcher, "op9")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	driver.mustOK(ClientDriverDuty, map[string]any{"onDuty": true})

	before := op.stats()
	require.Empty(t, before.Delivery.Stalled)
	require.Len(t, before.Nodes, 1)
	require.Equal(t, 2, before.Sockets, "op1 and d1; op9 is another tenant's")

	vendor := e.connect(t, "acme", orders.RoleVendor, "v1") // never reads: acks nothing
	for i := range 4 {
		o := vendor.mustOK(ClientOrderCreate, newOrder("c"+string(rune('1'+i)))).Order
		driver.mustOK(ClientPickupClaim, map[string]any{"orderId": o.ID})
	}
	var got BoardStats
	require.Eventually(t, func() bool {
		got = op.stats()
		return len(got.Delivery.Stalled) == 1
	}, 5*time.Second, 50*time.Millisecond, "the silent vendor stalls")
	s := got.Delivery.Stalled[0]
	require.Equal(t, "vendor", s.Role)
	require.Equal(t, "v1", s.UserID)
	require.NotEmpty(t, s.OldestEvent)
	require.Equal(t, uint64(1), s.OldestSeq, "nothing was acked")
	require.WithinDuration(t, time.Now(), s.Since, 5*time.Second)
	require.GreaterOrEqual(t, s.InFlight, 2)
	require.GreaterOrEqual(t, got.Delivery.InFlight, s.InFlight)
	require.Equal(t, 3, got.Sockets)
	require.Equal(t, 1, got.DriversOnDuty)

	theirs := other.stats()
	require.Empty(t, theirs.Delivery.Stalled, "another tenant's stall is not shown")
	require.Zero(t, theirs.Delivery.InFlight)
	require.Zero(t, theirs.DriversOnDuty)
	require.Equal(t, 1, theirs.Sockets)
}

func TestBoardStatsIsForDispatchersOnly(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	r := vendor.call(ClientBoardStats, map[string]any{})
	require.False(t, r.OK, "%s", r.Raw)
}
