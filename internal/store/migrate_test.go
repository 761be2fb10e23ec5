package store

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

func TestLoadMigrations(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		ms, err := loadMigrations(migrationFiles, d)
		require.NoError(t, err)
		require.NotEmpty(t, ms)
		var got []string
		for _, m := range ms {
			got = append(got, fmt.Sprintf("%04d_%s", m.version, m.name))
		}
		assert.Equal(t, []string{"0001_orders", "0002_outbox", "0003_recipients", "0004_order_exceptions", "0005_drivers", "0006_deadlines", "0007_tenants", "0008_webhooks", "0009_tracking"}, got,
			"%s: both dialects have every migration, numbered without gaps", d)
	}

	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	ms, err := loadMigrations(fstest.MapFS{
		"migrations/x/0002_b.sql": file("B"),
		"migrations/x/0001_a.sql": file("A"),
		"migrations/x/0010_c.sql": file("C"),
		"migrations/x/README.md":  file("ignored"),
	}, "x")
	require.NoError(t, err)
	assert.Equal(t, []migration{{1, "a", "A"}, {2, "b", "B"}, {10, "c", "C"}}, ms, "numeric, not lexical, order")

	for name, fsys := range map[string]fstest.MapFS{
		"no number":   {"migrations/x/init.sql": file("")},
		"zero":        {"migrations/x/0000_a.sql": file("")},
		"duplicate":   {"migrations/x/0001_a.sql": file(""), "migrations/x/1_b.sql": file("")},
		"missing dir": {},
	} {
		_, err := loadMigrations(fsys, "x")
		assert.Error(t, err, name)
	}
}

func TestDialectPlaceholders(t *testing.T) {
	const q = `SELECT a FROM t WHERE b = ? AND c = ? LIMIT ?`
	assert.Equal(t, q, sqliteDialect().q(q))
	assert.Equal(t, `SELECT a FROM t WHERE b = $1 AND c = $2 LIMIT $3`, postgresDialect().q(q))
	assert.Equal(t, `SELECT 1`, postgresDialect().q(`SELECT 1`))
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://u:secret@h/db", "sqlite:///tmp/x.db", "secret"} {
		_, err := Open(context.Background(), Config{DatabaseURL: u}, zaptest.NewLogger(t))
		require.ErrorIs(t, err, ErrUnsupportedURL, u)
		assert.NotContains(t, err.Error(), "secret", "the URL may hold a password")
	}
}

func TestOpenPostgresUnreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Open(ctx, Config{DatabaseURL: "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=1"}, zaptest.NewLogger(t))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}
