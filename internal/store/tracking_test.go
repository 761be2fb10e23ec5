package store

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// testTrackingToken: every new order gets its own unguessable token,
// kept through transitions, and the token finds its order whatever the
// tenant; anything else is not found.
func testTrackingToken(t *testing.T, s *Store) {
	ctx := context.Background()
	a := createT(t, s, "t1", "v1", newOrder("c1", ""))
	b := createT(t, s, "t2", "v1", newOrder("c1", ""))
	for _, o := range []orders.Order{a, b} {
		require.Regexp(t, `^[A-Za-z0-9_-]{24}$`, o.TrackingToken, "144 random bits, base64url")
		require.True(t, orders.ValidTrackingToken(o.TrackingToken))
	}
	require.NotEqual(t, a.TrackingToken, b.TrackingToken)

	moved, _, err := s.Transition(ctx, "t1", a.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, testTime())
	require.NoError(t, err)
	assert.Equal(t, a.TrackingToken, moved.TrackingToken)

	got, err := s.OrderByTrackingToken(ctx, a.TrackingToken)
	require.NoError(t, err)
	assert.Equal(t, moved, got)
	got, err = s.OrderByTrackingToken(ctx, b.TrackingToken)
	require.NoError(t, err)
	assert.Equal(t, "t2", got.Tenant)
	assert.Equal(t, b.ID, got.ID)

	for _, tok := range []string{"", a.ID, a.TrackingToken[:23], a.TrackingToken + "x"} {
		_, err = s.OrderByTrackingToken(ctx, tok)
		assert.ErrorIs(t, err, orders.ErrNotFound, "%q", tok)
	}
}

// testTrackingBackfill: migration 0009 gives the orders that existed
// before it a random token each, so every order has a tracking link.
func testTrackingBackfill(t *testing.T, s *Store) {
	ctx := context.Background()
	a := createT(t, s, "t1", "v1", newOrder("c1", ""))
	b := createT(t, s, "t1", "v1", newOrder("c2", ""))
	// Back to the schema before 0009, with these two orders in it.
	for _, q := range []string{
		`DROP INDEX orders_tracking_token`,
		`ALTER TABLE orders DROP COLUMN tracking_token`,
		`DELETE FROM schema_migrations WHERE version = 9`,
	} {
		_, err := s.w.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	require.NoError(t, s.migrate(ctx))

	hex := regexp.MustCompile(`^[0-9a-f]{32,64}$`)
	seen := map[string]bool{}
	for _, o := range []orders.Order{a, b} {
		got, err := s.GetOrder(ctx, "t1", o.ID)
		require.NoError(t, err)
		require.Regexp(t, hex, got.TrackingToken)
		require.True(t, orders.ValidTrackingToken(got.TrackingToken))
		require.False(t, seen[got.TrackingToken], "tokens differ")
		seen[got.TrackingToken] = true
		byToken, err := s.OrderByTrackingToken(ctx, got.TrackingToken)
		require.NoError(t, err)
		assert.Equal(t, o.ID, byToken.ID)
	}
}
