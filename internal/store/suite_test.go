package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// runSuite is the behaviour every backend must show; open returns a fresh,
// empty store for each case.
func runSuite(t *testing.T, open func(t *testing.T) *Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"ping and dialect", testPing},
		{"create get list", testCreateGetList},
		{"list filters", testListFilters},
		{"tenant isolation", testTenantIsolation},
		{"idempotent create", testIdempotentCreate},
		{"idempotent create concurrent", testIdempotentCreateConcurrent},
		{"lifecycle", testLifecycle},
		{"claims concurrent", testClaimsConcurrent},
		{"pick up retries concurrent", testPickUpRetriesConcurrent},
		{"cancel rules", testCancelRules},
		{"events", testEvents},
		{"times round trip", testTimesRoundTrip},
		{"outbox", testOutbox},
		{"recipient first load", testRecipientFirstLoad},
		{"save cursors", testSaveCursors},
		{"save cursors batches", testSaveCursorsBatches},
		{"save cursors concurrent", testSaveCursorsConcurrent},
		{"load recipient concurrent", testLoadRecipientConcurrent},
		{"subscriptions", testSubscriptions},
		{"recipient isolation", testRecipientIsolation},
		{"purge subscriptions", testPurgeSubscriptions},
		{"recipient out of range", testRecipientOutOfRange},
		{"NUL refused", testNULRefused},
		{"dispatch and proof", testDispatchAndProof},
		{"unassign and fail", testUnassignAndFail},
		{"dispatcher actions", testDispatcherActions},
		{"notify unassigned", testNotifyUnassigned},
		{"assign races claims", testAssignRacesClaims},
		{"driver duty", testDriverDuty},
		{"active orders", testActiveOrders},
		{"driver duty keeps the newest", testDriverDutyNewestWins},
		{"deadlines due", testDeadlinesDue},
		{"deadlines replace and complete", testDeadlinesReplace},
		{"deadlines claims concurrent", testDeadlinesClaimsConcurrent},
		{"deadlines with transition", testDeadlinesWithTransition},
		{"deadlines refused", testDeadlinesRefused},
		{"replace deadline", testReplaceDeadline},
		{"update deadline", testUpdateDeadline},
		{"perform planned", testPerformPlanned},
		{"list without deadline", testListWithoutDeadline},
		{"tenant registry", testTenantRegistry},
		{"list pages", testListPages},
		{"tracking token", testTrackingToken},
		{"tracking backfill", testTrackingBackfill},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func testPing(t *testing.T, s *Store) {
	require.NoError(t, s.Ping(context.Background()))
	assert.Contains(t, []string{"sqlite", "postgres"}, s.Dialect())
}

func testCreateGetList(t *testing.T, s *Store) {
	ctx := context.Background()
	n := newOrder("c1", "north")
	o := createT(t, s, "t1", "v1", n)

	assert.True(t, orders.ValidID(o.ID))
	assert.Equal(t, "t1", o.Tenant)
	assert.Equal(t, "v1", o.VendorID)
	assert.Equal(t, "c1", o.CustomerID)
	assert.Equal(t, n.Store, o.Store)
	assert.Equal(t, "north", o.Zone)
	assert.Equal(t, n.Pickup, o.Pickup)
	assert.Equal(t, n.Dropoff, o.Dropoff)
	assert.Equal(t, n.Items, o.Items)
	assert.Equal(t, orders.Ready, o.Status)
	assert.Empty(t, o.DriverID)
	assert.Equal(t, 1, o.Version)
	assert.Equal(t, stamp(testTime()), o.CreatedAt)
	assert.Equal(t, o.CreatedAt, o.UpdatedAt)

	got, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got, "what is read back equals what CreateOrder returned")

	bare := newOrder("c2", "")
	bare.Items = nil
	o2 := createT(t, s, "t1", "v1", bare)
	got2, err := s.GetOrder(ctx, "t1", o2.ID)
	require.NoError(t, err)
	assert.Equal(t, o2, got2)
	assert.Nil(t, got2.Items)
	assert.Empty(t, got2.Zone)

	list, err := s.ListOrders(ctx, "t1", Filter{})
	require.NoError(t, err)
	assert.Equal(t, []orders.Order{o, o2}, list, "listed in id (creation) order")

	_, err = s.GetOrder(ctx, "t1", orders.NewID())
	assert.ErrorIs(t, err, orders.ErrNotFound)
	_, err = s.GetOrder(ctx, "t1", "not-an-id")
	assert.ErrorIs(t, err, orders.ErrNotFound)
}

func testListFilters(t *testing.T, s *Store) {
	ctx := context.Background()
	a := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	b := createT(t, s, "t1", "v1", newOrder("c2", "south"))
	c := createT(t, s, "t1", "v2", newOrder("c1", "north"))
	d := createT(t, s, "t1", "v2", newOrder("c3", ""))
	b, _, err := s.Transition(ctx, "t1", b.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, testTime())
	require.NoError(t, err)
	d, _, err = s.Transition(ctx, "t1", d.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d2"}, testTime())
	require.NoError(t, err)

	tests := []struct {
		name string
		f    Filter
		want []orders.Order
	}{
		{"all", Filter{}, []orders.Order{a, b, c, d}},
		{"vendor", Filter{VendorID: "v2"}, []orders.Order{c, d}},
		{"customer", Filter{CustomerID: "c1"}, []orders.Order{a, c}},
		{"driver", Filter{DriverID: "d1"}, []orders.Order{b}},
		{"zone", Filter{Zone: "north"}, []orders.Order{a, c}},
		{"status ready", Filter{Status: orders.Ready}, []orders.Order{a, c}},
		{"status assigned", Filter{Status: orders.Assigned}, []orders.Order{b, d}},
		{"combined", Filter{VendorID: "v1", Status: orders.Ready, Zone: "north"}, []orders.Order{a}},
		{"no match", Filter{VendorID: "v1", CustomerID: "c3"}, []orders.Order{}},
		{"unknown status", Filter{Status: "teleported"}, []orders.Order{}},
		{"limit", Filter{Limit: 2}, []orders.Order{a, b}},
		{"negative limit means default", Filter{Limit: -1}, []orders.Order{a, b, c, d}},
		{"limit above max", Filter{Limit: 5000}, []orders.Order{a, b, c, d}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListOrders(ctx, "t1", tt.f)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func testTenantIsolation(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "tA", "v1", newOrder("c1", "north"))

	_, err := s.GetOrder(ctx, "tB", o.ID)
	assert.ErrorIs(t, err, orders.ErrNotFound)
	list, err := s.ListOrders(ctx, "tB", Filter{})
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = s.Events(ctx, "tB", o.ID)
	assert.ErrorIs(t, err, orders.ErrNotFound)

	// Same vendor and driver names in tenant B change nothing in A.
	_, ev, err := s.Transition(ctx, "tB", o.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, testTime())
	assert.ErrorIs(t, err, orders.ErrNotFound)
	assert.Nil(t, ev)
	_, _, err = s.Transition(ctx, "tB", o.ID, orders.ActionCancel, orders.Actor{Role: orders.RoleVendor, ID: "v1"}, testTime())
	assert.ErrorIs(t, err, orders.ErrNotFound)

	// An idempotency key is scoped to the tenant too.
	n := newOrder("c1", "north")
	n.IdempotencyKey = "k1"
	oa := createT(t, s, "tA", "v1", n)
	ob := createT(t, s, "tB", "v1", n)
	assert.NotEqual(t, oa.ID, ob.ID)

	got, err := s.GetOrder(ctx, "tA", o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got)
}

func testIdempotentCreate(t *testing.T, s *Store) {
	ctx := context.Background()
	n := newOrder("c1", "north")
	n.IdempotencyKey = "key-1"
	first := createT(t, s, "t1", "v1", n)

	again, created, err := s.CreateOrder(ctx, "t1", "v1", n, testTime().Add(time.Minute))
	require.NoError(t, err)
	assert.Nil(t, created)
	assert.Equal(t, first, again, "a repeat returns the stored order, times included")

	changed := n
	changed.Store = "Other store"
	again, created, err = s.CreateOrder(ctx, "t1", "v1", changed, testTime())
	require.NoError(t, err)
	assert.Nil(t, created, "the key decides, not the payload")
	assert.Equal(t, first, again)

	otherVendor := createT(t, s, "t1", "v2", n)
	assert.NotEqual(t, first.ID, otherVendor.ID, "keys are per vendor")
	n.IdempotencyKey = "key-2"
	otherKey := createT(t, s, "t1", "v1", n)
	assert.NotEqual(t, first.ID, otherKey.ID)
	n.IdempotencyKey = ""
	noKey1 := createT(t, s, "t1", "v1", n)
	noKey2 := createT(t, s, "t1", "v1", n)
	assert.NotEqual(t, noKey1.ID, noKey2.ID, "no key, no deduplication")

	evs, err := s.Events(ctx, "t1", first.ID)
	require.NoError(t, err)
	assert.Len(t, evs, 1, "a repeat writes no event")
	assert.Equal(t, 5, countRows(t, s.w, s.d, `SELECT count(*) FROM orders WHERE tenant = ?`, "t1"))
}

func testLifecycle(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	driver := orders.Actor{Role: orders.RoleDriver, ID: "d1"}

	steps := []struct {
		action orders.Action
		want   orders.Status
	}{
		{orders.ActionClaim, orders.Assigned},
		{orders.ActionPickUp, orders.PickedUp},
		{orders.ActionInTransit, orders.InTransit},
		{orders.ActionDeliver, orders.Delivered},
	}
	at := testTime()
	for i, st := range steps {
		at = at.Add(time.Minute)
		got, ev, err := s.Transition(ctx, "t1", o.ID, st.action, driver, at)
		require.NoError(t, err, st.action)
		require.NotNil(t, ev, st.action)
		assert.Equal(t, st.want, got.Status)
		assert.Equal(t, "d1", got.DriverID)
		assert.Equal(t, i+2, got.Version)
		assert.Equal(t, stamp(at), got.UpdatedAt)
		assert.Equal(t, o.CreatedAt, got.CreatedAt)
		assert.True(t, orders.ValidID(ev.ID))
		assert.Equal(t, orders.Event{ID: ev.ID, OrderID: o.ID, Status: st.want, DriverID: "d1", Actor: driver, At: stamp(at), Version: i + 2}, *ev)

		stored, err := s.GetOrder(ctx, "t1", o.ID)
		require.NoError(t, err)
		assert.Equal(t, got, stored)
	}

	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	wantStatus := []orders.Status{orders.Ready, orders.Assigned, orders.PickedUp, orders.InTransit, orders.Delivered}
	for i, ev := range evs {
		assert.Equal(t, i+1, ev.Version)
		assert.Equal(t, wantStatus[i], ev.Status)
		assert.Equal(t, o.ID, ev.OrderID)
	}
	assert.Equal(t, orders.Actor{Role: orders.RoleVendor, ID: "v1"}, evs[0].Actor)
	assert.Empty(t, evs[0].DriverID)
	assert.Equal(t, o.CreatedAt, evs[0].At)

	// Delivered is final; a repeat by the same driver is a harmless retry.
	got, ev, err := s.Transition(ctx, "t1", o.ID, orders.ActionDeliver, driver, at.Add(time.Hour))
	require.NoError(t, err)
	assert.Nil(t, ev)
	assert.Equal(t, 5, got.Version)
	assert.Equal(t, stamp(at), got.UpdatedAt, "a retry changes nothing")
	_, _, err = s.Transition(ctx, "t1", o.ID, orders.ActionCancel, orders.Actor{Role: orders.RoleVendor, ID: "v1"}, at)
	assert.ErrorIs(t, err, orders.ErrConflict)
}

func testCancelRules(t *testing.T, s *Store) {
	ctx := context.Background()
	vendor := orders.Actor{Role: orders.RoleVendor, ID: "v1"}
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	tests := []struct {
		name    string
		before  []orders.Action // by d1
		actor   orders.Actor
		wantErr error
		wantEv  bool
	}{
		{"ready", nil, vendor, nil, true},
		{"assigned", []orders.Action{orders.ActionClaim}, vendor, nil, true},
		{"picked up", []orders.Action{orders.ActionClaim, orders.ActionPickUp}, vendor, orders.ErrConflict, false},
		{"delivered", []orders.Action{orders.ActionClaim, orders.ActionPickUp, orders.ActionInTransit, orders.ActionDeliver}, vendor, orders.ErrConflict, false},
		{"other vendor", nil, orders.Actor{Role: orders.RoleVendor, ID: "v2"}, orders.ErrNotFound, false},
		{"driver", []orders.Action{orders.ActionClaim}, d1, orders.ErrForbidden, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
			for _, a := range tt.before {
				_, _, err := s.Transition(ctx, "t1", o.ID, a, d1, testTime())
				require.NoError(t, err)
			}
			before, err := s.GetOrder(ctx, "t1", o.ID)
			require.NoError(t, err)

			got, ev, err := s.Transition(ctx, "t1", o.ID, orders.ActionCancel, tt.actor, testTime())
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, ev)
				after, err := s.GetOrder(ctx, "t1", o.ID)
				require.NoError(t, err)
				assert.Equal(t, before, after, "a refused action changes nothing")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, ev)
			assert.Equal(t, orders.Cancelled, got.Status)
			assert.Equal(t, before.Version+1, got.Version)
			assert.Equal(t, vendor, ev.Actor)

			got, ev, err = s.Transition(ctx, "t1", o.ID, orders.ActionCancel, vendor, testTime())
			require.NoError(t, err, "cancelling twice is a retry")
			assert.Nil(t, ev)
			assert.Equal(t, orders.Cancelled, got.Status)
			_, _, err = s.Transition(ctx, "t1", o.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d9"}, testTime())
			assert.ErrorIs(t, err, orders.ErrConflict, "a cancelled order cannot be claimed")
		})
	}
}

func testEvents(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	other := createT(t, s, "t1", "v1", newOrder("c2", "north"))
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	d2 := orders.Actor{Role: orders.RoleDriver, ID: "d2"}

	// Interleave two orders' transitions; each log keeps its own order.
	_, _, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, d1, testTime())
	require.NoError(t, err)
	_, _, err = s.Transition(ctx, "t1", other.ID, orders.ActionClaim, d2, testTime())
	require.NoError(t, err)
	_, _, err = s.Transition(ctx, "t1", o.ID, orders.ActionPickUp, d1, testTime())
	require.NoError(t, err)
	_, _, err = s.Transition(ctx, "t1", other.ID, orders.ActionCancel, orders.Actor{Role: orders.RoleVendor, ID: "v1"}, testTime())
	require.NoError(t, err)

	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	for i, ev := range evs {
		assert.Equal(t, i+1, ev.Version)
		assert.Equal(t, o.ID, ev.OrderID)
	}
	assert.Equal(t, []orders.Status{orders.Ready, orders.Assigned, orders.PickedUp},
		[]orders.Status{evs[0].Status, evs[1].Status, evs[2].Status})

	evs, err = s.Events(ctx, "t1", other.ID)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.Equal(t, orders.Cancelled, evs[2].Status)
	assert.Equal(t, "d2", evs[2].DriverID, "the event records the order as it became")
	assert.Equal(t, orders.RoleVendor, evs[2].Actor.Role)

	_, err = s.Events(ctx, "t1", orders.NewID())
	assert.ErrorIs(t, err, orders.ErrNotFound)
}

func testTimesRoundTrip(t *testing.T, s *Store) {
	ctx := context.Background()
	created := time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.FixedZone("PST", -8*3600))
	o, _, err := s.CreateOrder(ctx, "t1", "v1", newOrder("c1", ""), created)
	require.NoError(t, err)
	want := time.Date(2025, 1, 1, 7, 59, 59, 999999000, time.UTC)
	assert.Equal(t, want, o.CreatedAt, "UTC, truncated to microseconds")
	assert.Equal(t, time.UTC, o.CreatedAt.Location())

	moved := time.Date(2025, 1, 1, 8, 0, 0, 1000, time.UTC) // one microsecond
	got, ev, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, moved)
	require.NoError(t, err)
	assert.Equal(t, moved, got.UpdatedAt)
	assert.Equal(t, moved, ev.At)

	stored, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, want, stored.CreatedAt)
	assert.Equal(t, moved, stored.UpdatedAt)
	assert.Equal(t, time.UTC, stored.UpdatedAt.Location())
	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, want, evs[0].At)
	assert.Equal(t, moved, evs[1].At)
}

// testNULRefused: text holding NUL is refused the same way on both
// backends (PostgreSQL refuses it in text columns, SQLite would store it),
// even from a caller that skipped validation.
func testNULRefused(t *testing.T, s *Store) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(*orders.NewOrder)
	}{
		{"store", func(n *orders.NewOrder) { n.Store = "Pizza\x00" }},
		{"customer", func(n *orders.NewOrder) { n.CustomerID = "c\x00" }},
		{"zone", func(n *orders.NewOrder) { n.Zone = "\x00" }},
		{"pickup address", func(n *orders.NewOrder) { n.Pickup.Address = "1\x00Main" }},
		{"dropoff address", func(n *orders.NewOrder) { n.Dropoff.Address = "\x00" }},
		{"item name", func(n *orders.NewOrder) { n.Items[1].Name = "tira\x00misù" }},
		{"idempotency key", func(n *orders.NewOrder) { n.IdempotencyKey = "k\x00" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newOrder("c1", "north")
			tt.mutate(&n)
			_, _, err := s.CreateOrder(ctx, "t1", "v1", n, testTime())
			code, _ := orders.CodeOf(err)
			assert.Equal(t, orders.CodeInvalidArgument, code, "%v", err)
		})
	}
	list, err := s.ListOrders(ctx, "t1", orders.Filter{})
	require.NoError(t, err)
	assert.Empty(t, list)
}
