package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

func setDeadlineT(t testing.TB, s *Store, order, kind string, due time.Time) Deadline {
	t.Helper()
	d, err := s.SetDeadline(context.Background(), Deadline{Tenant: "t1", OrderID: order, Kind: kind, DueAt: due, Round: 1, Payload: `{"ring":1}`})
	require.NoError(t, err)
	require.NotEmpty(t, d.Token)
	return d
}

func claimT(t testing.TB, s *Store, owner string, now time.Time, lease time.Duration) []Deadline {
	t.Helper()
	ds, err := s.ClaimDueDeadlines(context.Background(), owner, now, lease, 100)
	require.NoError(t, err)
	return ds
}

func testDeadlinesDue(t *testing.T, s *Store) {
	t0 := stamp(testTime())
	const lease = 5 * time.Second
	a := setDeadlineT(t, s, "o1", "offer", t0)
	setDeadlineT(t, s, "o2", "offer", t0.Add(10*time.Second))

	assert.Empty(t, claimT(t, s, "n1", t0.Add(-time.Microsecond), lease), "nothing is due yet")
	got := claimT(t, s, "n1", t0, lease)
	require.Len(t, got, 1, "due at now is due")
	a.LeaseUntil = t0.Add(lease)
	assert.Equal(t, a, got[0], "returned as set, with its lease")

	assert.Empty(t, claimT(t, s, "n2", t0.Add(lease-time.Microsecond), lease), "leased: no one else gets it")
	again := claimT(t, s, "n2", t0.Add(lease), lease)
	require.Len(t, again, 1, "a lapsed lease makes it claimable again")
	assert.Equal(t, "o1", again[0].OrderID)

	both := claimT(t, s, "n3", t0.Add(time.Hour), lease)
	require.Len(t, both, 2)
	assert.Equal(t, []string{"o1", "o2"}, []string{both[0].OrderID, both[1].OrderID}, "earliest first")

	require.NoError(t, s.ClearDeadline(context.Background(), "t1", "o1", "offer"))
	require.NoError(t, s.ClearDeadline(context.Background(), "t1", "o1", "offer"), "clearing a missing one is no error")
	left, err := s.Deadlines(context.Background(), "t1", "o1")
	require.NoError(t, err)
	assert.Empty(t, left)
}

func testDeadlinesReplace(t *testing.T, s *Store) {
	ctx := context.Background()
	t0 := stamp(testTime())
	setDeadlineT(t, s, "o1", "offer", t0)
	claimed := claimT(t, s, "n1", t0, time.Minute)
	require.Len(t, claimed, 1)

	// The next ring replaces the deadline while n1 still acts on the old.
	next := setDeadlineT(t, s, "o1", "offer", t0.Add(30*time.Second))
	assert.NotEqual(t, claimed[0].Token, next.Token)
	ok, err := s.CompleteDeadline(ctx, claimed[0], "n1")
	require.NoError(t, err)
	assert.False(t, ok, "a replaced deadline is not the claim")
	list, err := s.Deadlines(ctx, "t1", "o1")
	require.NoError(t, err)
	assert.Equal(t, []Deadline{next}, list, "the new one survives, unleased")

	got := claimT(t, s, "n1", t0.Add(30*time.Second), time.Minute)
	require.Len(t, got, 1, "the replacement is claimable at once: replacing drops the old lease")
	ok, err = s.CompleteDeadline(ctx, got[0], "n2")
	require.NoError(t, err)
	assert.False(t, ok, "only the owner completes")
	ok, err = s.CompleteDeadline(ctx, got[0], "n1")
	require.NoError(t, err)
	assert.True(t, ok)
	list, err = s.Deadlines(ctx, "t1", "o1")
	require.NoError(t, err)
	assert.Empty(t, list)
}

// testDeadlinesClaimsConcurrent: claimers racing over 1,000 due deadlines
// get each exactly once.
func testDeadlinesClaimsConcurrent(t *testing.T, s *Store) {
	t0 := stamp(testTime())
	const n = 1000
	setManyT(t, s, n, t0)
	claimAllConcurrently(t, []*Store{s, s, s, s}, t0.Add(time.Second), n)
}

// setManyT sets n deadlines due by due, concurrently so that SQLite's
// group writer commits them in a few transactions.
func setManyT(t *testing.T, s *Store, n int, due time.Time) {
	t.Helper()
	errs := concurrently(n, func(i int) error {
		_, err := s.SetDeadline(context.Background(), Deadline{Tenant: "t1", OrderID: fmt.Sprintf("o%04d", i),
			Kind: "offer", DueAt: due.Add(-time.Duration(i) * time.Microsecond)})
		return err
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// claimAllConcurrently runs a claimer per store until none finds more and
// checks that the n due deadlines were each claimed once.
func claimAllConcurrently(t *testing.T, stores []*Store, now time.Time, n int) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	errs := concurrently(len(stores), func(i int) error {
		for {
			ds, err := stores[i].ClaimDueDeadlines(context.Background(), fmt.Sprintf("n%d", i), now, time.Hour, 37)
			if err != nil || len(ds) == 0 {
				return err
			}
			mu.Lock()
			for _, d := range ds {
				seen[d.OrderID]++
			}
			mu.Unlock()
		}
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, n)
	for id, c := range seen {
		require.Equal(t, 1, c, "%s claimed %d times", id, c)
	}
}

func testDeadlinesWithTransition(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v1", newOrder("c1", ""))
	due := stamp(testTime()).Add(time.Minute)
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	set := DeadlineChanges{Set: []Deadline{{Kind: "respond_by", DueAt: due, Round: 2}}}

	_, ev, err := s.PerformWithDeadlines(ctx, "t1", o.ID, orders.Request{Action: orders.ActionClaim, Actor: d1}, testTime(), set)
	require.NoError(t, err)
	require.NotNil(t, ev)
	list, err := s.Deadlines(ctx, "t1", o.ID)
	require.NoError(t, err)
	require.Len(t, list, 1, "set with the transition")
	assert.Equal(t, Deadline{Tenant: "t1", OrderID: o.ID, Kind: "respond_by", DueAt: due, Round: 2, Token: list[0].Token}, list[0])

	// A refused transition sets nothing: d2's claim loses.
	other := DeadlineChanges{Set: []Deadline{{Kind: "other", DueAt: due}}}
	_, _, err = s.PerformWithDeadlines(ctx, "t1", o.ID, orders.Request{Action: orders.ActionClaim,
		Actor: orders.Actor{Role: orders.RoleDriver, ID: "d2"}}, testTime(), other)
	require.ErrorIs(t, err, orders.ErrAlreadyClaimed)
	// A retry (no change) neither.
	_, ev, err = s.PerformWithDeadlines(ctx, "t1", o.ID, orders.Request{Action: orders.ActionClaim, Actor: d1}, testTime(), other)
	require.NoError(t, err)
	require.Nil(t, ev)
	list, err = s.Deadlines(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Len(t, list, 1)

	_, _, err = s.PerformWithDeadlines(ctx, "t1", o.ID, orders.Request{Action: orders.ActionPickUp, Actor: d1}, testTime(),
		DeadlineChanges{Clear: []string{"respond_by"}})
	require.NoError(t, err)
	list, err = s.Deadlines(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Empty(t, list, "cleared with the transition")
}

func testDeadlinesRefused(t *testing.T, s *Store) {
	ctx := context.Background()
	due := stamp(testTime())
	tests := []struct {
		name string
		d    Deadline
	}{
		{"no kind", Deadline{Tenant: "t1", OrderID: "o1", DueAt: due}},
		{"no due time", Deadline{Tenant: "t1", OrderID: "o1", Kind: "offer"}},
		{"NUL payload", Deadline{Tenant: "t1", OrderID: "o1", Kind: "offer", DueAt: due, Payload: "a\x00b"}},
		{"NUL kind", Deadline{Tenant: "t1", OrderID: "o1", Kind: "of\x00fer", DueAt: due}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SetDeadline(ctx, tc.d)
			require.ErrorIs(t, err, &orders.Error{Code: orders.CodeInvalidArgument})
		})
	}
	o := createT(t, s, "t1", "v1", newOrder("c1", ""))
	_, _, err := s.PerformWithDeadlines(ctx, "t1", o.ID, orders.Request{Action: orders.ActionClaim,
		Actor: orders.Actor{Role: orders.RoleDriver, ID: "d1"}}, testTime(), DeadlineChanges{Set: []Deadline{{Kind: "x"}}})
	require.ErrorIs(t, err, &orders.Error{Code: orders.CodeInvalidArgument})
	got, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, orders.Ready, got.Status, "nothing changed")
	_, err = s.ClaimDueDeadlines(ctx, "", due, time.Second, 10)
	require.ErrorIs(t, err, &orders.Error{Code: orders.CodeInvalidArgument})
}

// TestPostgresDeadlinesTwoNodes: two stores on one database (two nodes)
// racing over 1,000 due deadlines claim each exactly once.
func TestPostgresDeadlinesTwoNodes(t *testing.T) {
	skipWithoutPostgres(t)
	u := postgresURL(t)
	a, b := openT(t, Config{DatabaseURL: u}), openT(t, Config{DatabaseURL: u})
	t0 := stamp(testTime())
	const n = 1000
	setManyT(t, a, n, t0)
	claimAllConcurrently(t, []*Store{a, b, a, b}, t0, n)
}
