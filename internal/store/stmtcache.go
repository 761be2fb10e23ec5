package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of one pool by query text. SQLite
// parses a statement's text anew on every database/sql call that does not
// use one (an eighth of the CPU of a busy node); pgx caches statements by
// itself, so PostgreSQL needs none.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache: the queries are constants, but a few
// are built per call (IN lists, multi-row upserts) and are left uncached.
const maxCachedStmts = 64

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt)}
}

// txQueries run inside write transactions. On SQLite the writer pool has
// one connection, which a transaction holds, so a statement can only be
// prepared on the pool outside of one: these are prepared at open.
var txQueries = []string{
	insertOrder, selectOrder, selectOrderVersion, selectOrderByKey, insertOutbox, updateOrder, insertEvent,
	insertCursorIfAbsent, selectCursor, upsertSubscription,
}

// warm prepares queries now.
func (c *stmtCache) warm(ctx context.Context, queries []string) {
	for _, q := range queries {
		c.get(ctx, q, false)
	}
}

// get returns the statement for query, prepared on first use unless
// inTx (see txQueries); nil when the cache is off, full, or preparing
// failed (the caller then runs the query unprepared, which reports the
// error if there is one).
func (c *stmtCache) get(ctx context.Context, query string, inTx bool) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if inTx || len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		_ = st.Close()
	}
	clear(c.m)
}

// cacheFor is the cache of the pool q belongs to: a transaction is on
// the writer.
func (s *Store) cacheFor(q any) *stmtCache {
	switch q {
	case s.w:
		return s.cw
	case s.r:
		return s.cr
	}
	if _, ok := q.(*sql.Tx); ok {
		return s.cw
	}
	return nil
}

// execer is what *sql.DB and *sql.Tx share for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// exec runs a write on q (a pool or a transaction), prepared once.
func (s *Store) exec(ctx context.Context, q execer, query string, args ...any) (sql.Result, error) {
	tx, inTx := q.(*sql.Tx)
	if st := s.cacheFor(q).get(ctx, query, inTx); st != nil {
		if inTx {
			st = tx.StmtContext(ctx, st)
		}
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}

// query runs a read on q, prepared once.
func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	tx, inTx := q.(*sql.Tx)
	if st := s.cacheFor(q).get(ctx, query, inTx); st != nil {
		if inTx {
			st = tx.StmtContext(ctx, st)
		}
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

// queryRow runs a one-row read on q, prepared once.
func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	tx, inTx := q.(*sql.Tx)
	if st := s.cacheFor(q).get(ctx, query, inTx); st != nil {
		if inTx {
			st = tx.StmtContext(ctx, st)
		}
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}
