package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Store is the order repository. It is safe for concurrent use.
type Store struct {
	d dialect
	w *sql.DB // writes and read-modify-write transactions; one connection on SQLite
	r *sql.DB // plain reads; the same pool as w on PostgreSQL
	// ob is the outbox relay's own pool (PostgreSQL only; nil on SQLite,
	// where the relay reads on r and marks through the group writer).
	ob  *sql.DB
	log *zap.Logger
	obs Observer
	// Prepared statements of w and r (SQLite only; nil on PostgreSQL).
	cw, cr *stmtCache
	// gw owns w and runs every write after the migrations (SQLite
	// only; nil on PostgreSQL).
	gw *groupWriter
	// watch counts the SQLite write connection's changed rows and
	// rollbacks for gw (nil on PostgreSQL).
	watch *txWatch
	// oc keeps orders in flight to spare transitions their reads.
	oc *orderCache
}

// Open connects to the configured database and applies the embedded
// migrations it has not seen yet.
func Open(ctx context.Context, cfg Config, log *zap.Logger) (*Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultConfig().DataDir
	}
	var (
		s   *Store
		err error
	)
	switch {
	case cfg.DatabaseURL == "":
		s, err = openSQLite(ctx, cfg.DataDir)
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		s, err = openPostgres(ctx, cfg.DatabaseURL)
	default:
		// The URL may hold a password: keep it out of the error.
		return nil, fmt.Errorf("open store: %w", ErrUnsupportedURL)
	}
	if err != nil {
		return nil, err
	}
	s.log = log
	s.oc = newOrderCache()
	s.obs = cfg.Observer
	if s.obs == nil {
		s.obs = nopObserver{}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s store: %w", s.d.name, err), s.Close())
	}
	// The transactions' statements can only be prepared outside of one.
	qs := make([]string, len(txQueries))
	for i, q := range txQueries {
		qs[i] = s.d.q(q)
	}
	s.cw.warm(ctx, qs)
	if s.d.name == "sqlite" {
		s.gw = newGroupWriter(s.w, s.watch)
	}
	log.Info("store opened", zap.String("dialect", s.d.name))
	return s, nil
}

// timed reports how long op took since start: `defer s.timed(op, time.Now())`.
func (s *Store) timed(op string, start time.Time) { s.obs.DB(op, time.Since(start)) }

// Close closes the connection pools. It is safe to call more than once.
func (s *Store) Close() error {
	if s.gw != nil {
		s.gw.close()
	}
	s.cw.close()
	s.cr.close()
	var errOb error
	if s.ob != nil {
		errOb = s.ob.Close()
	}
	if s.r == s.w {
		return errors.Join(s.w.Close(), errOb)
	}
	return errors.Join(s.r.Close(), s.w.Close(), errOb)
}

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.name, err)
	}
	return nil
}

// Dialect reports the backend: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// begin starts a write transaction with the dialect's options.
func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.w.BeginTx(ctx, s.d.txOpts)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return tx, nil
}

// rollback ends a transaction that was not committed; after Commit it is a
// no-op returning sql.ErrTxDone, and a failed rollback leaves nothing for
// the caller to do (the connection is discarded).
func rollback(tx *sql.Tx) { _ = tx.Rollback() }
