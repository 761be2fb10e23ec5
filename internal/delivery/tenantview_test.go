package delivery_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestTenantViewListsTheTenantsStalledRecipients: a vendor that acks
// nothing shows up stalled in its tenant's view, with its oldest unacked
// event, and acking moves it out; another tenant's view has none of it.
func TestTenantViewListsTheTenantsStalledRecipients(t *testing.T) {
	d, log, _, _ := stallNode(t, 2)
	c, _ := attach(t, d, vendor1)
	attach(t, d, delivery.RecipientID{Tenant: "other", Role: "vendor", User: "v1"})
	for i := range 3 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	c.waitN(t, 2)
	var v delivery.TenantView
	require.Eventually(t, func() bool { v = d.TenantView("acme"); return len(v.Stalled) == 1 }, 2*time.Second, time.Millisecond)
	require.Equal(t, 1, v.Recipients)
	require.Equal(t, 3, v.Queued)
	require.GreaterOrEqual(t, v.InFlight, 2)
	s := v.Stalled[0]
	require.Equal(t, [3]string{"vendor", "v1", "order:status"}, [3]string{s.Role, s.User, s.OldestEvent})
	require.Equal(t, uint64(1), s.OldestSeq)
	require.WithinDuration(t, time.Now(), s.Since, time.Second)

	other := d.TenantView("other")
	require.Equal(t, delivery.TenantView{Recipients: 1, Stalled: []delivery.StalledRecipient{}}, other, "none of acme's queue")

	c.all()[0].ack() // the window moves: no longer stalled
	require.Empty(t, d.TenantView("acme").Stalled)
}
