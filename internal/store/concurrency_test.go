package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// concurrently runs f(i) for i in [0, n) at once and returns the errors.
func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testIdempotentCreateConcurrent(t *testing.T, s *Store) {
	ctx := context.Background()
	n := newOrder("c1", "north")
	n.IdempotencyKey = "same-key"
	const tries = 20
	got := make([]orders.Order, tries)
	created := make([]*orders.Event, tries)
	errs := concurrently(tries, func(i int) error {
		var err error
		got[i], created[i], err = s.CreateOrder(ctx, "t1", "v1", n, testTime())
		return err
	})
	wins := 0
	for i, err := range errs {
		require.NoError(t, err)
		assert.Equal(t, got[0].ID, got[i].ID, "every call returns the one order")
		if created[i] != nil {
			wins++
		}
	}
	assert.Equal(t, 1, wins, "exactly one call creates")
	assert.Equal(t, 1, countRows(t, s.w, s.d, `SELECT count(*) FROM orders WHERE tenant = ?`, "t1"))
	assert.Equal(t, 1, countRows(t, s.w, s.d, `SELECT count(*) FROM order_events WHERE tenant = ?`, "t1"))
}

func testClaimsConcurrent(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	const drivers = 50
	won := make([]orders.Order, drivers)
	events := make([]*orders.Event, drivers)
	errs := concurrently(drivers, func(i int) error {
		var err error
		won[i], events[i], err = s.Transition(ctx, "t1", o.ID, orders.ActionClaim,
			orders.Actor{Role: orders.RoleDriver, ID: fmt.Sprintf("d%d", i)}, testTime())
		return err
	})
	winner := -1
	lost := 0
	for i, err := range errs {
		switch {
		case err == nil:
			require.Equal(t, -1, winner, "a second winner: d%d and d%d", winner, i)
			winner = i
		case errors.Is(err, orders.ErrAlreadyClaimed):
			lost++
		default:
			t.Errorf("d%d: unexpected error %v", i, err)
		}
	}
	require.NotEqual(t, -1, winner, "nobody won")
	assert.Equal(t, drivers-1, lost)
	require.NotNil(t, events[winner])
	assert.Equal(t, fmt.Sprintf("d%d", winner), won[winner].DriverID)
	assert.Equal(t, 2, won[winner].Version)

	stored, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, won[winner], stored)
	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	require.Len(t, evs, 2, "exactly one assigned event")
	assert.Equal(t, *events[winner], evs[1])
}

func testPickUpRetriesConcurrent(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	_, _, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, d1, testTime())
	require.NoError(t, err)

	const retries = 20
	got := make([]orders.Order, retries)
	events := make([]*orders.Event, retries)
	errs := concurrently(retries, func(i int) error {
		var err error
		got[i], events[i], err = s.Transition(ctx, "t1", o.ID, orders.ActionPickUp, d1, testTime())
		return err
	})
	withEvent := 0
	for i, err := range errs {
		require.NoError(t, err, "a retry by the same driver is not an error")
		assert.Equal(t, orders.PickedUp, got[i].Status)
		assert.Equal(t, 3, got[i].Version)
		if events[i] != nil {
			withEvent++
		}
	}
	assert.Equal(t, 1, withEvent, "exactly one call changes the order")
	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Len(t, evs, 3)
}
