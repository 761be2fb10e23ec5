package dispatch

import (
	"context"
	"strings"
	"sync"
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

// trackingService is a service on a real SQLite store with tracking
// links under base, a fleet to place couriers and the default ETA.
func trackingService(t *testing.T, base string) (*Service, *Fleet) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()}, zaptest.NewLogger(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	fleet := NewFleet(time.Minute, nil)
	svc := NewService(st, noRelay{}, noLocations{}, &boardRecorder{}, fleet)
	svc.EnableETA(fleet, DefaultConfig().ETA())
	if base != "" {
		svc.EnableTracking(st, fleet, TrackingConfig{PublicURL: base})
	}
	return svc, fleet
}

// boardRecorder keeps the board updates the service publishes.
type boardRecorder struct {
	mu   sync.Mutex
	seen []orders.Order
}

func (b *boardRecorder) OrderChanged(o orders.Order) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen = append(b.seen, o)
}

func (b *boardRecorder) last() orders.Order {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen[len(b.seen)-1]
}

func trackedOrder(proof orders.Proof) orders.NewOrder {
	return orders.NewOrder{Store: "Pizza Nord", CustomerID: "c1", Proof: proof,
		Pickup:  orders.Place{Address: "1 Main St", Lat: 52.52, Lng: 13.40},
		Dropoff: orders.Place{Address: "9 Side St", Lat: 52.50, Lng: 13.42}}
}

// TestTrackingURLByRole: the vendor, the customer and dispatchers are
// shown the order's trackingUrl wherever they get the order; a driver
// never is; with tracking off nobody is.
func TestTrackingURLByRole(t *testing.T) {
	ctx := context.Background()
	svc, _ := trackingService(t, "https://track.example/")
	vendor := auth.Claims{Tenant: "t1", Role: orders.RoleVendor, Subject: "v1"}
	customer := auth.Claims{Tenant: "t1", Role: orders.RoleCustomer, Subject: "c1"}
	dispatcher := auth.Claims{Tenant: "t1", Role: orders.RoleDispatcher, Subject: "o1"}
	driver := auth.Claims{Tenant: "t1", Role: orders.RoleDriver, Subject: "d1"}

	o, _, err := svc.CreateOrder(ctx, vendor, trackedOrder(""))
	require.NoError(t, err)
	require.NotEmpty(t, o.TrackingToken)
	want := "https://track.example/track/" + o.TrackingToken
	assert.Equal(t, want, o.TrackingURL)

	for _, c := range []auth.Claims{vendor, customer, dispatcher} {
		got, err := svc.Get(ctx, c, o.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got.TrackingURL, c.Role)
	}
	for _, c := range []auth.Claims{vendor, customer} {
		list, err := svc.List(ctx, c, "")
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, want, list[0].TrackingURL, c.Role)
		page, _, err := svc.ListPage(ctx, c, "", Page{})
		require.NoError(t, err)
		require.Len(t, page, 1)
		assert.Equal(t, want, page[0].TrackingURL, c.Role)
	}
	board, _, err := svc.Board(ctx, dispatcher, "")
	require.NoError(t, err)
	require.Len(t, board, 1)
	assert.Equal(t, want, board[0].TrackingURL)
	pushed := svc.board.(*boardRecorder).last()
	assert.Equal(t, o.ID, pushed.ID)
	assert.Equal(t, want, pushed.TrackingURL, "the board's live updates carry it too")

	got, err := svc.Get(ctx, driver, o.ID)
	require.NoError(t, err)
	assert.Empty(t, got.TrackingURL, "a driver sees a ready order, not its link")
	pickups, err := svc.Pickups(ctx, driver, "")
	require.NoError(t, err)
	require.Len(t, pickups, 1)
	assert.Empty(t, pickups[0].TrackingURL)
	claimed, err := svc.Act(ctx, driver, o.ID, orders.ActionClaim)
	require.NoError(t, err)
	assert.Empty(t, claimed.TrackingURL)
	cancelled, err := svc.Perform(ctx, dispatcher, o.ID, orders.Request{Action: orders.ActionCancel})
	require.NoError(t, err)
	assert.Equal(t, want, cancelled.TrackingURL)

	off, _ := trackingService(t, "")
	o, _, err = off.CreateOrder(ctx, vendor, trackedOrder(""))
	require.NoError(t, err)
	assert.Empty(t, o.TrackingURL)
	_, err = off.Track(ctx, o.TrackingToken)
	assert.ErrorIs(t, err, orders.ErrNotFound)
}

// TestTrack: the tracking view follows the order through its life,
// places the courier with an ETA while it holds the order, and stops
// answering TrackingGrace after the order ended, like an unknown token.
func TestTrack(t *testing.T) {
	ctx := context.Background()
	svc, fleet := trackingService(t, "http://localhost:8080")
	now := time.Now().UTC()
	svc.now = func() time.Time { return now }
	vendor := auth.Claims{Tenant: "t1", Role: orders.RoleVendor, Subject: "v1"}
	driver := auth.Claims{Tenant: "t1", Role: orders.RoleDriver, Subject: "d1"}

	o, _, err := svc.CreateOrder(ctx, vendor, trackedOrder(orders.ProofPIN))
	require.NoError(t, err)
	tr, err := svc.Track(ctx, o.TrackingToken)
	require.NoError(t, err)
	assert.Equal(t, orders.Ready, tr.Status)
	assert.True(t, tr.PINRequired)
	assert.Equal(t, o.Dropoff, tr.Dropoff)
	assert.Nil(t, tr.Courier)
	assert.Nil(t, tr.ETASeconds)
	assert.Nil(t, tr.ExpiresAt)
	assert.Equal(t, 5, tr.PollSeconds)

	fleet.ApplyDuty(orders.Duty{Tenant: "t1", DriverID: "d1", OnDuty: true, UpdatedAt: time.Now()})
	seen := time.Now().UTC()
	fleet.Observe("t1", "d1", geo.Point{Lat: 52.51, Lng: 13.41}, seen)
	for _, a := range []orders.Action{orders.ActionClaim, orders.ActionPickUp, orders.ActionInTransit} {
		_, err = svc.Act(ctx, driver, o.ID, a)
		require.NoError(t, err)
		tr, err = svc.Track(ctx, o.TrackingToken)
		require.NoError(t, err)
		require.NotNil(t, tr.Courier, a)
		assert.Equal(t, orders.CourierPosition{Lat: 52.51, Lng: 13.41, At: seen}, *tr.Courier)
		require.NotNil(t, tr.ETASeconds, a)
		assert.Positive(t, *tr.ETASeconds)
	}
	watched, _, err := svc.Watch(ctx, auth.Claims{Tenant: "t1", Role: orders.RoleCustomer, Subject: "c1"}, o.ID)
	require.NoError(t, err)
	_, err = svc.Perform(ctx, driver, o.ID, orders.Request{Action: orders.ActionDeliver, PIN: watched.PIN})
	require.NoError(t, err)

	tr, err = svc.Track(ctx, o.TrackingToken)
	require.NoError(t, err)
	assert.Equal(t, orders.Delivered, tr.Status)
	assert.Nil(t, tr.Courier, "no courier once delivered")
	assert.Nil(t, tr.ETASeconds)
	var steps []orders.Status
	for _, s := range tr.Timeline {
		steps = append(steps, s.Status)
		assert.False(t, s.At.IsZero())
	}
	assert.Equal(t, []orders.Status{orders.Ready, orders.Assigned, orders.PickedUp, orders.InTransit, orders.Delivered}, steps)
	require.NotNil(t, tr.ExpiresAt)
	assert.Equal(t, tr.UpdatedAt.Add(orders.TrackingGrace), *tr.ExpiresAt)
	assert.Zero(t, tr.PollSeconds)

	now = tr.UpdatedAt.Add(orders.TrackingGrace - time.Second)
	_, err = svc.Track(ctx, o.TrackingToken)
	require.NoError(t, err, "open until 24 h after the end")
	now = tr.UpdatedAt.Add(orders.TrackingGrace)
	_, err = svc.Track(ctx, o.TrackingToken)
	assert.ErrorIs(t, err, orders.ErrNotFound, "expired")

	for _, tok := range []string{"", "short", o.ID, "../../etc/passwd-aaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAAAAAAAAAA"} {
		_, err = svc.Track(ctx, tok)
		assert.ErrorIs(t, err, orders.ErrNotFound, "%q", tok)
	}
}

// TestTrackingURLOnSockets: over Socket.IO, the vendor's order:create
// and the customer's order:watch carry the trackingUrl; the drivers'
// pickup:available and pickup:claim never do.
func TestTrackingURLOnSockets(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	customer := e.connect(t, "acme", orders.RoleCustomer, "c1")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	driver.mustOK("pickups:subscribe", map[string]any{})

	created := vendor.mustOK("order:create", newOrder("c1"))
	require.True(t, strings.HasPrefix(created.Order.TrackingURL, testPublicURL+"/track/"), string(created.Raw))
	token := strings.TrimPrefix(created.Order.TrackingURL, testPublicURL+"/track/")
	require.True(t, orders.ValidTrackingToken(token))

	w := customer.mustOK("order:watch", map[string]any{"orderId": created.Order.ID})
	assert.Equal(t, created.Order.TrackingURL, w.Order.TrackingURL)

	ev := driver.next()
	require.Equal(t, "pickup:available", ev.Name)
	assert.NotContains(t, string(ev.Args[0]), token)
	assert.NotContains(t, string(ev.Args[0]), "trackingUrl")
	claimed := driver.mustOK("pickup:claim", map[string]any{"orderId": created.Order.ID})
	assert.NotContains(t, string(claimed.Raw), token)
	assert.Empty(t, claimed.Order.TrackingURL)
}
