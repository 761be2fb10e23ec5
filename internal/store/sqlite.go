package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

const (
	sqliteFile = "dispatchd.db"
	// sqliteReaders bounds the read pool; WAL lets readers run beside the
	// single writer.
	sqliteReaders = 8
	// sqliteBusyMillis is how long a connection waits for another
	// process's lock before SQLITE_BUSY. Within this process writers queue
	// on the one-connection write pool instead.
	sqliteBusyMillis = "10000"
)

// openSQLite opens dir/dispatchd.db with two pools: one connection for
// writes, so that write transactions queue in Go rather than spin on
// SQLite's lock, and a few read-only connections.
func openSQLite(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, sqliteFile))
	if err != nil {
		return nil, fmt.Errorf("resolve sqlite path: %w", err)
	}

	watch := &txWatch{}
	w := sql.OpenDB(newWatchedConnector(sqliteDSN(path, url.Values{
		// Every write transaction is BEGIN IMMEDIATE: it takes the write
		// lock up front instead of failing with SQLITE_BUSY when a
		// deferred transaction tries to upgrade its read lock.
		"_txlock":       {"immediate"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		"_busy_timeout": {sqliteBusyMillis},
	}), watch))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	// The first connection creates the file and switches it to WAL
	// (persistent) before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite %s: %w", path, err), w.Close())
	}

	r, err := sql.Open("sqlite", sqliteDSN(path, url.Values{
		"_query_only":   {"1"},
		"_foreign_keys": {"1"},
		"_busy_timeout": {sqliteBusyMillis},
	}))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite: %w", err), w.Close())
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	s := &Store{d: sqliteDialect(), w: w, r: r, cw: newStmtCache(w), cr: newStmtCache(r), watch: watch}
	return s, nil
}

// sqliteDSN builds a file: URI, so that any character in the path is
// escaped rather than read as URI syntax.
func sqliteDSN(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}
