package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

const (
	// postgresMaxConns bounds each node's pool; many nodes share one server.
	postgresMaxConns    = 20
	postgresConnMaxLife = 30 * time.Minute
	// postgresOutboxConns is the relay's own pool: one connection reads the
	// outbox while the other marks the previous round sent. Under load the
	// shared pool's queue was a quarter of a second, and the relay, one loop
	// that waits for each read, fell behind by seconds (docs/BENCHMARKS.md,
	// "PostgreSQL + NATS and the cluster").
	postgresOutboxConns = 2
)

// openPostgres opens a database/sql pool over pgx. Connection parameters,
// search_path included, come from the URL.
func openPostgres(ctx context.Context, databaseURL string) (*Store, error) {
	cc, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts the password in this error.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	db := stdlib.OpenDB(*cc)
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns)
	db.SetConnMaxLifetime(postgresConnMaxLife)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect postgres %s/%s: %w", cc.Host, cc.Database, err), db.Close())
	}
	ob := stdlib.OpenDB(*cc)
	ob.SetMaxOpenConns(postgresOutboxConns)
	ob.SetMaxIdleConns(postgresOutboxConns)
	ob.SetConnMaxLifetime(postgresConnMaxLife)
	return &Store{d: postgresDialect(), w: db, r: db, ob: ob}, nil
}
