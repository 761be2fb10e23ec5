package store

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestOrderCacheTwoNodes runs two stores on one database, as two nodes
// do, each with its own cache, and moves one order on both: a node's
// stale cache must neither refuse an action the stored order takes nor
// let one through that the stored order refuses, and what a transition
// returns is what a read returns.
func TestOrderCacheTwoNodes(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		testOrderCacheTwoNodes(t, openSQLiteT(t, dir), openSQLiteT(t, dir))
	})
	t.Run("postgres", func(t *testing.T) {
		skipWithoutPostgres(t)
		u := postgresURL(t)
		testOrderCacheTwoNodes(t, openT(t, Config{DatabaseURL: u}), openT(t, Config{DatabaseURL: u}))
	})
}

func testOrderCacheTwoNodes(t *testing.T, a, b *Store) {
	ctx := context.Background()
	driver := func(id string) orders.Actor { return orders.Actor{Role: orders.RoleDriver, ID: id} }
	act := func(s *Store, o orders.Order, action orders.Action, who string) (orders.Order, error) {
		t.Helper()
		got, ev, err := s.Transition(ctx, o.Tenant, o.ID, action, driver(who), testTime())
		if err == nil {
			require.NotNil(t, ev, "%s by %s changes the order", action, who)
			stored, gerr := s.GetOrder(ctx, o.Tenant, o.ID)
			require.NoError(t, gerr)
			assert.Equal(t, stored, got, "a transition returns the stored order")
		}
		return got, err
	}
	o := createT(t, a, "t1", "v1", newOrder("c1", "north"))

	// b claims, a gives it back: b's cache still says "assigned to d1".
	_, err := act(b, o, orders.ActionClaim, "d1")
	require.NoError(t, err)
	_, err = act(a, o, orders.ActionUnassign, "d1")
	require.NoError(t, err)
	got, err := act(b, o, orders.ActionClaim, "d2")
	require.NoError(t, err, "b's stale cache refuses nothing: the stored order is ready")
	assert.Equal(t, "d2", got.DriverID)

	// a's cache says "ready" (its unassign); d2 holds it in fact.
	_, err = act(a, o, orders.ActionClaim, "d3")
	require.ErrorIs(t, err, orders.ErrAlreadyClaimed, "a's stale cache lets no second claim win")

	// b's cache says "assigned to d2", which is true: d2 moves it on twice
	// without a stale step, and a, stale again, does too.
	_, err = act(b, o, orders.ActionPickUp, "d2")
	require.NoError(t, err)
	_, err = act(a, o, orders.ActionInTransit, "d2")
	require.NoError(t, err)
	retried, ev, err := b.Transition(ctx, o.Tenant, o.ID, orders.ActionInTransit, driver("d2"), testTime())
	require.NoError(t, err, "b, stale, hears a retry of the stored state as a retry")
	assert.Nil(t, ev)
	assert.Equal(t, orders.InTransit, retried.Status)
	final, err := act(b, o, orders.ActionDeliver, "d2")
	require.NoError(t, err)
	assert.Equal(t, orders.Delivered, final.Status)
	assert.Equal(t, 7, final.Version)
	evs, err := a.Events(ctx, o.Tenant, o.ID)
	require.NoError(t, err)
	assert.Len(t, evs, 7, "one event per change, none twice")
}

// TestOrderCacheBound: the cache holds no more than maxCacheBytes of
// orders however many are put, drops ended orders, and never goes back to
// an older version.
func TestOrderCacheBound(t *testing.T) {
	c := newOrderCache()
	big := make([]orders.Item, orders.MaxItems)
	for i := range big {
		big[i] = orders.Item{Name: strings.Repeat("x", orders.MaxTextLen), Qty: 1}
	}
	for i := range 2000 {
		c.put(orders.Order{Tenant: "t1", ID: fmt.Sprintf("o%d", i), Status: orders.Ready, Version: 1, Items: big})
	}
	total := 0
	for _, o := range c.m {
		total += orderBytes(o)
	}
	assert.Equal(t, total, c.bytes)
	assert.LessOrEqual(t, c.bytes, maxCacheBytes)
	assert.Greater(t, len(c.m), 100, "the budget is used")

	last := orders.Order{Tenant: "t1", ID: "o1999", Status: orders.Assigned, Version: 2, Items: big}
	c.put(last)
	c.put(orders.Order{Tenant: "t1", ID: "o1999", Status: orders.Ready, Version: 1})
	got, ok := c.get("t1", "o1999")
	require.True(t, ok)
	assert.Equal(t, 2, got.Version, "an older version does not replace a newer one")
	got.Items[0].Name = "changed"
	again, _ := c.get("t1", "o1999")
	assert.Equal(t, big[0].Name, again.Items[0].Name, "a caller's changes stay its own")

	c.put(orders.Order{Tenant: "t1", ID: "o1999", Status: orders.Delivered, Version: 3})
	_, ok = c.get("t1", "o1999")
	assert.False(t, ok, "an ended order leaves")
}
