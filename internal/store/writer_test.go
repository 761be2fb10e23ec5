package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scratchStore is an SQLite store with a table for writer tests.
func scratchStore(t *testing.T) *Store {
	t.Helper()
	s := openSQLiteT(t, t.TempDir())
	require.NoError(t, s.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE scratch (k TEXT PRIMARY KEY)`)
		return err
	}))
	return s
}

func insertScratch(k string) writeFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scratch (k) VALUES (?)`, k)
		return err
	}
}

// blockWriter makes the writer run a write that waits for release, so
// that writes asked meanwhile queue for the next group.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.write(context.Background(), func(context.Context, *sql.Tx) error {
			close(started)
			<-gate
			return nil
		})
	}()
	<-started
	return func() {
		close(gate)
		require.NoError(t, <-done)
	}
}

// TestGroupCommitIsolatesFailures: writes queued behind a busy writer
// commit together, and the one that fails takes only its own rows.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := scratchStore(t)
	release := blockWriter(t, s)
	w0, c0 := s.WriteCounts()

	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			fn := insertScratch(fmt.Sprintf("k%d", i))
			if i == 7 {
				// Writes a row, then fails: the row must go.
				fn = func(ctx context.Context, tx *sql.Tx) error {
					if err := insertScratch("k7")(ctx, tx); err != nil {
						return err
					}
					return errors.New("refused after writing")
				}
			}
			if i == 8 {
				// A constraint violation from the database itself.
				fn = insertScratch("k0-dup")
				_ = s.write(context.Background(), insertScratch("k0-dup"))
			}
			errs <- s.write(context.Background(), fn)
		}()
	}
	// Let every writer reach the queue; the test holds either way, this
	// only makes a single group likely.
	time.Sleep(100 * time.Millisecond)
	release()

	failed := 0
	for range n {
		if err := <-errs; err != nil {
			failed++
		}
	}
	assert.Equal(t, 2, failed, "the refusing write and the duplicate fail, nobody else")
	for i := range n {
		var got int
		require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM scratch WHERE k = ?`, fmt.Sprintf("k%d", i)).Scan(&got))
		switch i {
		case 7, 8:
			assert.Zero(t, got, "k%d", i)
		default:
			assert.Equal(t, 1, got, "k%d", i)
		}
	}
	w1, c1 := s.WriteCounts()
	writes, commits := w1-w0, c1-c0
	assert.EqualValues(t, n+1, writes, "n writes and the duplicate's first insert")
	assert.Less(t, commits, writes, "queued writes shared commits")
	t.Logf("%d writes in %d commits", writes, commits)
}

// TestGroupCommitDetachesCancel: a caller giving up while its write runs
// neither interrupts it (which would roll back the whole group on SQLite)
// nor hears a failure for a write that committed.
func TestGroupCommitDetachesCancel(t *testing.T) {
	s := scratchStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cancel()
		return insertScratch("after-cancel")(ctx, tx)
	})
	require.NoError(t, err)
	var got int
	require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM scratch WHERE k = 'after-cancel'`).Scan(&got))
	assert.Equal(t, 1, got)
}

// TestGroupCommitSkipsCancelled: a write whose caller gave up before its
// turn does not run.
func TestGroupCommitSkipsCancelled(t *testing.T) {
	s := scratchStore(t)
	release := blockWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	ran := make(chan struct{}, 1)
	go func() {
		errc <- s.write(ctx, func(context.Context, *sql.Tx) error {
			ran <- struct{}{}
			return nil
		})
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	release()
	require.ErrorIs(t, <-errc, context.Canceled)
	assert.Empty(t, ran, "a cancelled write does not run")
}

// TestGroupCommitClose: Close waits for the running group and later
// writes are refused, not lost in silence.
func TestGroupCommitClose(t *testing.T) {
	s, err := Open(context.Background(), Config{DataDir: t.TempDir()}, nil)
	require.NoError(t, err)
	release := blockWriter(t, s)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-closed:
		t.Fatal("Close returned while a write was running")
	default:
	}
	release()
	require.NoError(t, <-closed)
	err = s.write(context.Background(), func(context.Context, *sql.Tx) error { return nil })
	require.ErrorIs(t, err, ErrClosed)
	require.NoError(t, s.Close(), "closing twice is fine")
}

// TestGroupFailureInTheMiddle runs one group of three writes whose middle
// one fails in different ways. A write refused before it changed a row
// costs the others nothing; one that fails after writing, or that takes
// the transaction down, makes the writer start over with a savepoint per
// write (the first write then runs twice), so that whatever commits is
// exactly the writes that succeeded, and nothing when the transaction
// itself failed.
func TestGroupFailureInTheMiddle(t *testing.T) {
	refused := errors.New("refused")
	tests := []struct {
		name      string
		middle    writeFn
		wantRuns  int  // how often the first write ran
		wantGroup bool // the group as a whole failed: nothing committed
	}{
		{
			name:     "refused before writing",
			middle:   func(context.Context, *sql.Tx) error { return refused },
			wantRuns: 1,
		},
		{
			name:     "refused by a constraint",
			middle:   insertScratch("a"),
			wantRuns: 1,
		},
		{
			name: "refused after writing",
			middle: func(ctx context.Context, tx *sql.Tx) error {
				if err := insertScratch("b")(ctx, tx); err != nil {
					return err
				}
				return refused
			},
			wantRuns: 2,
		},
		{
			name: "transaction rolled back under the group",
			middle: func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `ROLLBACK`); err != nil {
					return err
				}
				return refused
			},
			wantRuns:  2,
			wantGroup: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scratchStore(t)
			runs := 0
			first := func(ctx context.Context, tx *sql.Tx) error {
				runs++
				return insertScratch("a")(ctx, tx)
			}
			group := []*writeReq{
				{ctx: context.Background(), fn: first},
				{ctx: context.Background(), fn: tt.middle},
				{ctx: context.Background(), fn: insertScratch("c")},
			}
			errs := make([]error, len(group))
			// The writer's goroutine is idle: nothing else uses the connection.
			err := s.gw.runTx(group, errs)

			assert.Equal(t, tt.wantRuns, runs, "runs of the first write")
			assert.EqualValues(t, tt.wantRuns-1, s.gw.reruns.Load(), "groups run again with savepoints")
			var stored []string
			rows, qerr := s.r.Query(`SELECT k FROM scratch ORDER BY k`)
			require.NoError(t, qerr)
			for rows.Next() {
				var k string
				require.NoError(t, rows.Scan(&k))
				stored = append(stored, k)
			}
			require.NoError(t, rows.Err())
			if tt.wantGroup {
				require.Error(t, err)
				assert.Empty(t, stored, "a failed transaction commits nothing")
				return
			}
			require.NoError(t, err)
			assert.NoError(t, errs[0])
			assert.Error(t, errs[1])
			assert.NoError(t, errs[2])
			assert.Equal(t, []string{"a", "c"}, stored)
		})
	}
}
