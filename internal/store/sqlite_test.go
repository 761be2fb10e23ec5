package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/orders"
)

func TestSQLitePragmas(t *testing.T) {
	s := openSQLiteT(t, t.TempDir())
	ctx := context.Background()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", sqliteBusyMillis},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			require.NoError(t, s.w.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got))
			assert.Equal(t, tt.want, got)
		})
	}
	var mode string
	require.NoError(t, s.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode, "readers see the file's WAL mode")
}

func TestSQLiteImmediateTransactions(t *testing.T) {
	dir := t.TempDir()
	s := openSQLiteT(t, dir)
	other := openSQLiteT(t, dir)
	ctx := context.Background()
	_, err := other.w.ExecContext(ctx, "PRAGMA busy_timeout = 0")
	require.NoError(t, err)

	tx, err := s.begin(ctx)
	require.NoError(t, err)
	defer rollback(tx)
	// BEGIN IMMEDIATE takes the write lock at once, before this
	// transaction writes anything, so another writer cannot begin.
	otx, err := other.begin(ctx)
	if err == nil {
		rollback(otx)
	}
	require.Error(t, err, "a second immediate transaction must wait for the first")
	assert.Contains(t, err.Error(), "SQLITE_BUSY")

	rollback(tx)
	otx, err = other.begin(ctx)
	require.NoError(t, err, "free again once the first ends")
	rollback(otx)
}

func TestSQLiteReadPoolIsReadOnly(t *testing.T) {
	s := openSQLiteT(t, t.TempDir())
	_, err := s.r.ExecContext(context.Background(), "DELETE FROM orders")
	assert.Error(t, err)
}

func TestSQLiteReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data dir#1?x=%")
	ctx := context.Background()

	s, err := Open(ctx, Config{DataDir: dir}, zaptest.NewLogger(t))
	require.NoError(t, err)
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))
	o, ev, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, testTime())
	require.NoError(t, err)
	require.NotNil(t, ev)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	info, err := os.Stat(filepath.Join(dir, sqliteFile))
	require.NoError(t, err, "the database lives in the data dir, path characters escaped")
	assert.True(t, info.Mode().IsRegular())
	dirInfo, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), dirInfo.Mode().Perm()&0o750)

	// Reopening applies no migration twice and sees everything committed.
	s = openSQLiteT(t, dir)
	got, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got)
	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Len(t, evs, 2)
	assert.Equal(t, migrationCount(t, s), countRows(t, s.w, s.d, `SELECT count(*) FROM schema_migrations`))
}

func TestSQLiteDefaultDataDir(t *testing.T) {
	t.Chdir(t.TempDir())
	s := openT(t, Config{})
	assert.Equal(t, "sqlite", s.Dialect())
	_, err := os.Stat(filepath.Join(DefaultConfig().DataDir, sqliteFile))
	assert.NoError(t, err)
}

func TestSQLiteOpenTwiceAtOnce(t *testing.T) {
	dir := t.TempDir()
	a := openSQLiteT(t, dir)
	b := openSQLiteT(t, dir)
	o := createT(t, a, "t1", "v1", newOrder("c1", ""))
	got, err := b.GetOrder(context.Background(), "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got)
	assert.Equal(t, migrationCount(t, b), countRows(t, b.w, b.d, `SELECT count(*) FROM schema_migrations`))
}
