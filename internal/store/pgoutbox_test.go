package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPostgresRelayOwnPool holds every connection of the requests' pool
// in an open transaction: the relay must still read the outbox and mark
// it sent, on its own connections, rather than queue behind the requests
// (under load that queue made the relay seconds late).
func TestPostgresRelayOwnPool(t *testing.T) {
	skipWithoutPostgres(t)
	s := openT(t, Config{DatabaseURL: postgresURL(t)})
	createT(t, s, "t1", "v1", newOrder("c1", "north"))

	ctx := context.Background()
	held := make([]*sql.Tx, 0, postgresMaxConns)
	for range postgresMaxConns {
		tx, err := s.w.BeginTx(ctx, nil)
		require.NoError(t, err)
		held = append(held, tx)
	}
	t.Cleanup(func() {
		for _, tx := range held {
			rollback(tx)
		}
	})

	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pending, err := s.PendingOutbox(tctx, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.NoError(t, s.MarkSent(tctx, []int64{pending[0].Seq}, testTime()))
	left, err := s.PendingOutbox(tctx, 10)
	require.NoError(t, err)
	require.Empty(t, left)
}
