package dispatch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
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

// countingStore is the real store, counting its log reads.
type countingStore struct {
	*store.Store
	events atomic.Int32
}

func (c *countingStore) Events(ctx context.Context, tenant, orderID string) ([]orders.Event, error) {
	c.events.Add(1)
	return c.Store.Events(ctx, tenant, orderID)
}

// TestTrackLookupReadsNoLog: naming the view (what an unchanged poll
// needs) reads the order only; building it reads the log.
func TestTrackLookupReadsNoLog(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()}, zaptest.NewLogger(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	cs := &countingStore{Store: st}
	fleet := NewFleet(time.Minute, nil)
	svc := NewService(cs, noRelay{}, noLocations{}, &boardRecorder{}, fleet)
	svc.EnableTracking(st, fleet, TrackingConfig{PublicURL: "https://track.example"})
	o, _, err := svc.CreateOrder(ctx, auth.Claims{Tenant: "t1", Role: orders.RoleVendor, Subject: "v1"}, trackedOrder(""))
	require.NoError(t, err)

	before := cs.events.Load()
	tr, err := svc.TrackLookup(ctx, o.TrackingToken)
	require.NoError(t, err)
	assert.Equal(t, before, cs.events.Load(), "the lookup reads no log")
	view, err := svc.TrackView(ctx, tr)
	require.NoError(t, err)
	assert.Equal(t, before+1, cs.events.Load())
	require.Len(t, view.Timeline, 1)
	assert.Equal(t, orders.Ready, view.Timeline[0].Status)
}
