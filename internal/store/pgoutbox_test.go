package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
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

// TestPostgresSaveCursorsOneStatement saves flushes of 30 different
// sizes on one connection: PostgreSQL must have prepared a single
// cursor statement for them, not one per size (each a fresh parse and
// plan of up to thousands of parameters, 20 flushes a second a node).
func TestPostgresSaveCursorsOneStatement(t *testing.T) {
	skipWithoutPostgres(t)
	s := openT(t, Config{DatabaseURL: postgresURL(t)})
	s.w.SetMaxOpenConns(1) // pg_prepared_statements is per connection
	ctx := context.Background()
	for n := 1; n <= 30; n++ {
		m := make(map[delivery.RecipientID]delivery.Cursor, n)
		for i := range n {
			m[delivery.RecipientID{Tenant: "t1", Role: "driver", User: fmt.Sprintf("d%02d", i)}] = delivery.Cursor{Pos: uint64(n), Seq: uint64(n)}
		}
		require.NoError(t, s.SaveCursors(ctx, m))
	}
	var prepared int
	require.NoError(t, s.w.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements
		WHERE statement LIKE 'INSERT INTO recipient_cursors%'`).Scan(&prepared))
	require.Equal(t, 1, prepared)
	c, found, err := s.cursor(ctx, s.w, delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d00"})
	require.NoError(t, err)
	require.True(t, found)
	require.EqualValues(t, 30, c.Pos)
}
