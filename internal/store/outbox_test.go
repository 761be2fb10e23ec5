package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

func testOutbox(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	_, _, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, d1, testTime())
	require.NoError(t, err)
	// Refused and retried actions commit nothing, so announce nothing.
	_, _, err = s.Transition(ctx, "t1", o.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d2"}, testTime())
	require.ErrorIs(t, err, orders.ErrAlreadyClaimed)
	_, ev, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, d1, testTime())
	require.NoError(t, err)
	require.Nil(t, ev)

	pending, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	log, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	for i, e := range pending {
		assert.Equal(t, "t1", e.Tenant)
		assert.Equal(t, o.ID, e.OrderID)
		assert.Equal(t, log[i].ID, e.EventID, "the outbox follows the event log")
		var c orders.Change
		require.NoError(t, json.Unmarshal(e.Payload, &c))
		assert.Equal(t, log[i], c.Event)
		assert.Equal(t, log[i].Status, c.Order.Status)
		assert.Equal(t, log[i].Version, c.Order.Version)
		if i > 0 {
			assert.Greater(t, e.Seq, pending[i-1].Seq)
		}
	}

	require.NoError(t, s.MarkSent(ctx, []int64{pending[0].Seq}, testTime()))
	left, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Equal(t, pending[1].Seq, left[0].Seq)

	require.NoError(t, s.MarkSent(ctx, []int64{pending[1].Seq}, testTime()))
	n, err := s.PurgeOutbox(ctx, testTime().Add(time.Second))
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	left, err = s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, left)
}
