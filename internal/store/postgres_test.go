package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// TestPostgresOpenConcurrently starts several nodes at once on an empty
// schema: the advisory lock lets one migrate while the others wait and
// then find nothing to do.
func TestPostgresOpenConcurrently(t *testing.T) {
	skipWithoutPostgres(t)
	u := postgresURL(t)
	const nodes = 4
	stores := make([]*Store, nodes)
	errs := concurrently(nodes, func(i int) error {
		var err error
		stores[i], err = Open(context.Background(), Config{DatabaseURL: u}, zaptest.NewLogger(t))
		return err
	})
	for i, err := range errs {
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, stores[i].Close()) })
	}
	assert.Equal(t, migrationCount(t, stores[0]), countRows(t, stores[0].w, stores[0].d, `SELECT count(*) FROM schema_migrations`))

	// Nodes share the data.
	o := createT(t, stores[0], "t1", "v1", newOrder("c1", ""))
	got, err := stores[nodes-1].GetOrder(context.Background(), "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got)
}

func TestPostgresReopen(t *testing.T) {
	skipWithoutPostgres(t)
	u := postgresURL(t)
	s, err := Open(context.Background(), Config{DatabaseURL: u}, zaptest.NewLogger(t))
	require.NoError(t, err)
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	require.NoError(t, s.Close())

	s = openT(t, Config{DatabaseURL: u})
	assert.Equal(t, "postgres", s.Dialect())
	got, err := s.GetOrder(context.Background(), "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got)
	assert.Equal(t, migrationCount(t, s), countRows(t, s.w, s.d, `SELECT count(*) FROM schema_migrations`))
}
