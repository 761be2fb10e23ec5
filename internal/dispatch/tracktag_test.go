package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestTrackTag: the tag a tracking view is named by before it is built
// holds while nothing changes and changes with everything the view
// shows: the order's status, the courier's position; two links never
// share one.
func TestTrackTag(t *testing.T) {
	ctx := context.Background()
	svc, fleet := trackingService(t, "https://track.example")
	vendor := auth.Claims{Tenant: "t1", Role: orders.RoleVendor, Subject: "v1"}
	driver := auth.Claims{Tenant: "t1", Role: orders.RoleDriver, Subject: "d1"}
	o, _, err := svc.CreateOrder(ctx, vendor, trackedOrder(""))
	require.NoError(t, err)
	other, _, err := svc.CreateOrder(ctx, vendor, trackedOrder(""))
	require.NoError(t, err)

	tag := func(token string) string {
		t.Helper()
		tr, err := svc.TrackLookup(ctx, token)
		require.NoError(t, err)
		require.Regexp(t, `^[A-Za-z0-9_-]{22}$`, tr.Tag)
		return tr.Tag
	}
	seen := map[string]string{}
	fresh := func(step, tg string) {
		t.Helper()
		prev, dup := seen[tg]
		require.False(t, dup, "%s has the tag of %s", step, prev)
		seen[tg] = step
	}
	first := tag(o.TrackingToken)
	assert.Equal(t, first, tag(o.TrackingToken), "nothing changed")
	fresh("ready", first)
	fresh("another link", tag(other.TrackingToken))

	_, err = svc.Act(ctx, driver, o.ID, orders.ActionClaim)
	require.NoError(t, err)
	fresh("assigned, no position", tag(o.TrackingToken))

	now := time.Now()
	fleet.ApplyDuty(orders.Duty{Tenant: "t1", DriverID: "d1", OnDuty: true, UpdatedAt: now})
	fleet.Observe("t1", "d1", geo.Point{Lat: 52.51, Lng: 13.41}, now)
	placed := tag(o.TrackingToken)
	fresh("courier placed", placed)
	view, err := svc.Track(ctx, o.TrackingToken)
	require.NoError(t, err)
	require.NotNil(t, view.Courier)
	require.NotNil(t, view.ETASeconds)

	fleet.Observe("t1", "d1", geo.Point{Lat: 52.505, Lng: 13.415}, now.Add(time.Second))
	fresh("courier moved", tag(o.TrackingToken))

	_, err = svc.Act(ctx, driver, o.ID, orders.ActionPickUp)
	require.NoError(t, err)
	fresh("picked up", tag(o.TrackingToken))
}
