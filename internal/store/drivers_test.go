package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// testDriverDuty: duty is stored per tenant and driver, read back, and
// listed for a starting node.
func testDriverDuty(t *testing.T, s *Store) {
	ctx := context.Background()
	t0 := testTime()

	d, err := s.Duty(ctx, "t1", "d1")
	require.NoError(t, err)
	require.Equal(t, orders.Duty{Tenant: "t1", DriverID: "d1"}, d, "a driver never stored is off duty")

	steps := []struct {
		tenant, driver string
		onDuty         bool
		at             time.Time
	}{
		{"t1", "d1", true, t0},
		{"t1", "d2", true, t0.Add(time.Second)},
		{"t1", "d3", false, t0},
		{"t2", "d1", true, t0},
		{"t1", "d2", false, t0.Add(2 * time.Second)},
	}
	for _, st := range steps {
		got, err := s.SetDuty(ctx, st.tenant, st.driver, st.onDuty, st.at)
		require.NoError(t, err)
		require.Equal(t, orders.Duty{Tenant: st.tenant, DriverID: st.driver, OnDuty: st.onDuty, UpdatedAt: stamp(st.at)}, got)
	}
	d, err = s.Duty(ctx, "t1", "d2")
	require.NoError(t, err)
	require.False(t, d.OnDuty)
	require.Equal(t, stamp(t0.Add(2*time.Second)), d.UpdatedAt)

	list, err := s.OnDutyDrivers(ctx)
	require.NoError(t, err)
	require.Equal(t, []orders.Duty{
		{Tenant: "t1", DriverID: "d1", OnDuty: true, UpdatedAt: stamp(t0)},
		{Tenant: "t2", DriverID: "d1", OnDuty: true, UpdatedAt: stamp(t0)},
	}, list)

	_, err = s.SetDuty(ctx, "t1", "d\x00", true, t0)
	code, _ := orders.CodeOf(err)
	require.Equal(t, orders.CodeInvalidArgument, code, "%v", err)
}

// testDriverDutyNewestWins: a change stamped before the stored one (a
// late write from another node) leaves the stored one in place.
func testDriverDutyNewestWins(t *testing.T, s *Store) {
	ctx := context.Background()
	t0 := testTime()
	_, err := s.SetDuty(ctx, "t1", "d1", true, t0.Add(time.Minute))
	require.NoError(t, err)
	got, err := s.SetDuty(ctx, "t1", "d1", false, t0)
	require.NoError(t, err)
	require.True(t, got.OnDuty, "the newer on-duty stays")
	require.Equal(t, stamp(t0.Add(time.Minute)), got.UpdatedAt)
}

// testActiveOrders: from assigned until the order ends, for its driver
// in its tenant only.
func testActiveOrders(t *testing.T, s *Store) {
	ctx := context.Background()
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	d2 := orders.Actor{Role: orders.RoleDriver, ID: "d2"}
	advance := func(tenant string, by orders.Actor, actions ...orders.Action) string {
		o := createT(t, s, tenant, "v1", newOrder("c1", "north"))
		for _, a := range actions {
			_, _, err := s.Transition(ctx, tenant, o.ID, a, by, testTime())
			require.NoError(t, err, a)
		}
		return o.ID
	}
	advance("t1", d1) // ready
	assigned := advance("t1", d1, orders.ActionClaim)
	picked := advance("t1", d1, orders.ActionClaim, orders.ActionPickUp)
	moving := advance("t1", d1, orders.ActionClaim, orders.ActionPickUp, orders.ActionInTransit)
	advance("t1", d1, orders.ActionClaim, orders.ActionPickUp, orders.ActionInTransit, orders.ActionDeliver)
	advance("t1", d2, orders.ActionClaim)                      // another driver's
	advance("t2", d1, orders.ActionClaim, orders.ActionPickUp) // another tenant's

	got, err := s.ActiveOrders(ctx, "t1", "d1")
	require.NoError(t, err)
	var ids []string
	for _, o := range got {
		ids = append(ids, o.ID)
		require.Equal(t, "d1", o.DriverID)
	}
	require.Equal(t, []string{assigned, picked, moving}, ids)
	got, err = s.ActiveOrders(ctx, "t1", "nobody")
	require.NoError(t, err)
	require.Empty(t, got)
}
