package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// writeFn is one caller's share of a write transaction. It must leave the
// transaction as it found it when it fails: the group writer rolls back
// to a savepoint taken before it, so an error undoes only its own writes.
// It may run a second time, in a new transaction, when another write of
// its group failed after writing: it must report through variables it
// sets on each run, never ones it accumulates into.
type writeFn func(ctx context.Context, tx *sql.Tx) error

// ErrClosed is returned for a write asked of a closed store.
var ErrClosed = errors.New("store closed")

// maxGroup bounds how many callers' writes share one transaction, so that
// one commit never holds the lock for long.
const maxGroup = 256

// groupWriter is SQLite's group commit. SQLite has one writer and, with
// synchronous=FULL, every commit waits for an fsync (a few milliseconds
// here), so one transaction per request caps a node near a few hundred
// writes a second whatever the CPU. Instead one goroutine owns the write
// connection; while it commits, requests queue, and it then runs all the
// waiting ones in a single transaction and answers each after the one
// fsync that makes them all durable. A write that fails must not take the
// others' with it: see runShared.
type groupWriter struct {
	db *sql.DB
	// watch reports the write connection's changed rows and rollbacks;
	// nil makes every group of several writes run with savepoints.
	watch *txWatch
	reqs  chan *writeReq
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	// Counted for metrics: writes requested, transactions committed and
	// groups run a second time with savepoints (see runGroup).
	writes, commits, reruns atomic.Uint64
}

type writeReq struct {
	ctx  context.Context
	fn   writeFn
	done chan error // buffered: the writer never waits for the caller
}

func newGroupWriter(db *sql.DB, watch *txWatch) *groupWriter {
	w := &groupWriter{
		db:    db,
		watch: watch,
		reqs:  make(chan *writeReq),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go w.loop()
	return w
}

// write runs fn in the next group transaction and returns once that has
// committed (fn's error, or the commit's). A caller whose ctx ends while
// it waits gets ctx's error, and fn then does not run if it had not
// started; once started, fn runs with ctx's cancellation detached,
// because interrupting a statement rolls back SQLite's whole transaction,
// the other callers' writes included.
func (w *groupWriter) write(ctx context.Context, fn writeFn) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case w.reqs <- r:
	case <-w.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, wait for the answer even if ctx ends: the write
	// may commit, and the caller must not report a failure that did not
	// happen. A group is short, so this wait is bounded.
	return <-r.done
}

func (w *groupWriter) loop() {
	defer close(w.done)
	group := make([]*writeReq, 0, maxGroup)
	for {
		select {
		case r := <-w.reqs:
			group = append(group[:0], r)
		case <-w.stop:
			return
		}
	gather:
		for len(group) < maxGroup {
			select {
			case r := <-w.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		w.run(group)
		clear(group)
	}
}

// run commits one group and answers every request in it.
func (w *groupWriter) run(group []*writeReq) {
	w.writes.Add(uint64(len(group)))
	errs := make([]error, len(group))
	err := w.runTx(group, errs)
	for i, r := range group {
		if err != nil && errs[i] == nil {
			// Nothing of this group is stored: each caller hears why.
			errs[i] = err
		}
		r.done <- errs[i]
	}
}

// runTx runs the group in one transaction. errs[i] gets request i's own
// failure (its writes undone); the returned error means nothing committed.
func (w *groupWriter) runTx(group []*writeReq, errs []error) error {
	ctx := context.Background()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { rollback(tx) }() // tx as it is then: runGroup may replace it
	if len(group) == 1 {
		// Nothing to isolate from: the transaction is the savepoint, so a
		// failed write is rolled back, not committed.
		if errs[0] = runWrite(tx, group[0]); errs[0] != nil {
			return nil
		}
	} else if tx, err = w.runGroup(ctx, tx, group, errs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	w.commits.Add(1)
	return nil
}

// runGroup runs a group of several writes in tx, or, when one of them
// failed after writing, rolls tx back and runs them all again, each in
// its own savepoint, in a new transaction, which it returns.
func (w *groupWriter) runGroup(ctx context.Context, tx *sql.Tx, group []*writeReq, errs []error) (*sql.Tx, error) {
	if w.watch != nil {
		if w.runShared(tx, group, errs) {
			return tx, nil
		}
		rollback(tx)
		clear(errs)
		w.reruns.Add(1)
		next, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return tx, fmt.Errorf("begin: %w", err) // tx: done, but never nil
		}
		tx = next
	}
	return tx, runSavepoints(ctx, tx, group, errs)
}

// runShared runs the group's writes one after the other in tx, with no
// savepoint between them: SQLite journals every page a write changes
// inside a savepoint, a quarter of the writer's syscalls. A write that
// fails before changing a row (a claim another one won, a refused
// transition: nearly every failure) leaves tx as it found it and the
// others go on. It reports false as soon as one fails after changing rows
// or with tx rolled back under it: tx then holds writes that must not
// commit.
func (w *groupWriter) runShared(tx *sql.Tx, group []*writeReq, errs []error) bool {
	for i, r := range group {
		before := w.watch.snapshot()
		if errs[i] = runWrite(tx, r); errs[i] != nil && w.watch.snapshot() != before {
			return false
		}
	}
	return true
}

// runWrite runs one request's fn in tx, unless its caller has gone.
func runWrite(tx *sql.Tx, r *writeReq) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	return r.fn(context.WithoutCancel(r.ctx), tx)
}

// runSavepoints runs each request in its own savepoint, rolled back to
// when it fails; errs[i] gets request i's failure. The returned error
// means the transaction itself failed.
func runSavepoints(ctx context.Context, tx *sql.Tx, group []*writeReq, errs []error) error {
	for i, r := range group {
		if errs[i] = r.ctx.Err(); errs[i] != nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if errs[i] = r.fn(context.WithoutCancel(r.ctx), tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	return nil
}

// close stops the writer after the group it is running; later writes get
// ErrClosed.
func (w *groupWriter) close() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

// write runs fn in a write transaction: a group one on SQLite, a
// transaction of its own on PostgreSQL, whose many connections commit in
// parallel and which groups its WAL flushes by itself.
func (s *Store) write(ctx context.Context, fn writeFn) error {
	if s.gw != nil {
		return s.gw.write(ctx, fn)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// WriteCounts reports the SQLite group writer's writes and commits
// (zero on PostgreSQL).
func (s *Store) WriteCounts() (writes, commits uint64) {
	if s.gw == nil {
		return 0, 0
	}
	return s.gw.writes.Load(), s.gw.commits.Load()
}

// execRows runs one statement (written with ? placeholders) as a write
// and returns how many rows it changed.
func (s *Store) execRows(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
