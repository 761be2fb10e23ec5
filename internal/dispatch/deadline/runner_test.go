package deadline_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/store"
)

// backends opens stores for a test: "nodes" stores on one database each
// time it is called (on SQLite one store shared, its single writer being
// the node-wide lock there), on SQLite and, with a server, PostgreSQL.
func backends(t *testing.T) map[string]func(t *testing.T, nodes int) []*store.Store {
	open := func(t *testing.T, cfg store.Config) *store.Store {
		s, err := store.Open(context.Background(), cfg, zaptest.NewLogger(t))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s
	}
	m := map[string]func(t *testing.T, nodes int) []*store.Store{
		"sqlite": func(t *testing.T, nodes int) []*store.Store {
			s := open(t, store.Config{DataDir: t.TempDir()})
			out := make([]*store.Store, nodes)
			for i := range out {
				out[i] = s
			}
			return out
		},
	}
	if os.Getenv("DISPATCH_TEST_DATABASE_URL") != "" {
		m["postgres"] = func(t *testing.T, nodes int) []*store.Store {
			u := postgresURL(t)
			out := make([]*store.Store, nodes)
			for i := range out {
				out[i] = open(t, store.Config{DatabaseURL: u})
			}
			return out
		}
	}
	return m
}

// postgresURL makes a fresh schema, dropped at the end, and returns the
// test database's URL set to it (as the store's own tests do).
func postgresURL(t *testing.T) string {
	base := os.Getenv("DISPATCH_TEST_DATABASE_URL")
	cc, err := pgx.ParseConfig(base)
	require.NoError(t, err)
	admin := stdlib.OpenDB(*cc)
	t.Cleanup(func() { require.NoError(t, admin.Close()) })
	b := make([]byte, 8)
	_, err = rand.Read(b)
	require.NoError(t, err)
	schema := "test_" + hex.EncodeToString(b)
	_, err = admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		require.NoError(t, err)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// runT runs r until the test ends or stop is called, and waits for it.
func runT(t *testing.T, r *deadline.Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
}

type observer struct {
	mu     sync.Mutex
	fired  map[string]int
	failed map[string]int
	lags   []time.Duration
}

func newObserver() *observer {
	return &observer{fired: map[string]int{}, failed: map[string]int{}}
}

func (o *observer) Fired(kind string, lag time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fired[kind]++
	o.lags = append(o.lags, lag)
}

func (o *observer) Failed(kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed[kind]++
}

func setT(t *testing.T, s *store.Store, order, kind string, due time.Time) deadline.Deadline {
	d, err := s.SetDeadline(context.Background(), deadline.Deadline{Tenant: "t1", OrderID: order, Kind: kind, DueAt: due})
	require.NoError(t, err)
	return d
}

func pending(t *testing.T, s *store.Store, order string) []deadline.Deadline {
	ds, err := s.Deadlines(context.Background(), "t1", order)
	require.NoError(t, err)
	return ds
}

// TestRunnerFiresOnTime: a deadline fires within a second of being due,
// then is gone; the observer hears it with its lag. Notified (this node
// set it) or found by polling (another node set it).
func TestRunnerFiresOnTime(t *testing.T) {
	for name, open := range backends(t) {
		for _, notify := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s notify=%v", name, notify), func(t *testing.T) { testFiresOnTime(t, open, notify) })
		}
	}
}

func testFiresOnTime(t *testing.T, open func(t *testing.T, nodes int) []*store.Store, notify bool) {
	s := open(t, 1)[0]
	obs := newObserver()
	r := deadline.NewRunner(s, deadline.Config{Observer: obs}, zaptest.NewLogger(t))
	fired := make(chan time.Time, 1)
	r.Handle("offer", func(_ context.Context, d deadline.Deadline) error {
		assert.Equal(t, "o1", d.OrderID)
		fired <- time.Now()
		return nil
	})
	runT(t, r)
	due := time.Now().Add(300 * time.Millisecond)
	setT(t, s, "o1", "offer", due)
	if notify {
		r.Notify(due)
	}
	at := waitFor(t, fired, 3*time.Second)
	assert.False(t, at.Before(due.Truncate(time.Microsecond)), "not before it is due")
	t.Logf("fired %v after due", at.Sub(due))
	assert.Less(t, at.Sub(due), time.Second, "within a second of due")
	require.Eventually(t, func() bool { return len(pending(t, s, "o1")) == 0 }, time.Second, 10*time.Millisecond, "completed")
	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Equal(t, 1, obs.fired["offer"])
	require.Len(t, obs.lags, 1)
	assert.Less(t, obs.lags[0], time.Second)
}

func waitFor[T any](t *testing.T, ch <-chan T, limit time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(limit):
		require.FailNow(t, "timed out")
		var zero T
		return zero
	}
}

// TestRunnerFailover: node A claims the deadline and dies while handling
// it; node B fires it within due + lease + 1 s.
func TestRunnerFailover(t *testing.T) {
	const lease = time.Second
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			nodes := open(t, 2)
			a := deadline.NewRunner(nodes[0], deadline.Config{Owner: "a", Lease: lease}, zaptest.NewLogger(t))
			started := make(chan struct{})
			a.Handle("respond_by", func(ctx context.Context, _ deadline.Deadline) error {
				close(started)
				<-ctx.Done() // hangs until the node dies
				return ctx.Err()
			})
			stopA := runT(t, a)
			due := time.Now().Add(100 * time.Millisecond)
			setT(t, nodes[0], "o1", "respond_by", due)
			a.Notify(due)
			waitFor(t, started, 3*time.Second)
			stopA() // "killed"

			b := deadline.NewRunner(nodes[1], deadline.Config{Owner: "b", Lease: lease}, zaptest.NewLogger(t))
			fired := make(chan time.Time, 1)
			b.Handle("respond_by", func(context.Context, deadline.Deadline) error {
				fired <- time.Now()
				return nil
			})
			runT(t, b)
			at := waitFor(t, fired, 5*time.Second)
			assert.Less(t, at.Sub(due), lease+time.Second)
			require.Eventually(t, func() bool { return len(pending(t, nodes[1], "o1")) == 0 }, time.Second, 10*time.Millisecond)
		})
	}
}

// TestRunnerRetriesAfterLease: a failed handler leaves the deadline to
// its lease; it is then claimed and run again.
func TestRunnerRetriesAfterLease(t *testing.T) {
	const lease = 500 * time.Millisecond
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t, 1)[0]
			obs := newObserver()
			r := deadline.NewRunner(s, deadline.Config{Lease: lease, Poll: 50 * time.Millisecond, Observer: obs}, zaptest.NewLogger(t))
			calls := make(chan time.Time, 2)
			var n atomic.Int32
			r.Handle("offer", func(context.Context, deadline.Deadline) error {
				calls <- time.Now()
				if n.Add(1) == 1 {
					return errors.New("broker down")
				}
				return nil
			})
			setT(t, s, "o1", "offer", time.Now())
			runT(t, r)
			first := waitFor(t, calls, 2*time.Second)
			second := waitFor(t, calls, 3*time.Second)
			assert.GreaterOrEqual(t, second.Sub(first), lease-50*time.Millisecond, "not before the lease lapses")
			require.Eventually(t, func() bool { return len(pending(t, s, "o1")) == 0 }, time.Second, 10*time.Millisecond)
			obs.mu.Lock()
			defer obs.mu.Unlock()
			assert.Equal(t, 1, obs.failed["offer"])
			assert.Equal(t, 1, obs.fired["offer"])
		})
	}
}

// TestRunnerUnknownKind: a deadline no handler knows is not dropped.
func TestRunnerUnknownKind(t *testing.T) {
	s := backends(t)["sqlite"](t, 1)[0]
	obs := newObserver()
	r := deadline.NewRunner(s, deadline.Config{Observer: obs}, zaptest.NewLogger(t))
	setT(t, s, "o1", "mystery", time.Now())
	runT(t, r)
	require.Eventually(t, func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.failed["mystery"] == 1
	}, 2*time.Second, 10*time.Millisecond)
	assert.Len(t, pending(t, s, "o1"), 1, "kept for a node that knows it")
}

// TestRunnersRace: two nodes on one database, each running a Runner,
// fire each of 1,000 due deadlines exactly once.
func TestRunnersRace(t *testing.T) {
	const n = 1000
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			nodes := open(t, 2)
			var (
				mu    sync.Mutex
				seen  = map[string]int{}
				total atomic.Int32
			)
			handler := func(_ context.Context, d deadline.Deadline) error {
				mu.Lock()
				seen[d.OrderID]++
				mu.Unlock()
				total.Add(1)
				return nil
			}
			due := time.Now()
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					_, errs[i] = nodes[0].SetDeadline(context.Background(),
						deadline.Deadline{Tenant: "t1", OrderID: fmt.Sprintf("o%04d", i), Kind: "offer", DueAt: due})
				})
			}
			wg.Wait()
			require.NoError(t, errors.Join(errs...))
			start := time.Now()
			for i, s := range nodes {
				r := deadline.NewRunner(s, deadline.Config{Owner: fmt.Sprintf("n%d", i), Batch: 50}, zaptest.NewLogger(t))
				r.Handle("offer", handler)
				runT(t, r)
			}
			require.Eventually(t, func() bool { return total.Load() >= n }, 20*time.Second, 20*time.Millisecond)
			t.Logf("%d deadlines fired in %v", n, time.Since(start))
			time.Sleep(300 * time.Millisecond) // a duplicate would show by now
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, seen, n)
			for id, c := range seen {
				require.Equal(t, 1, c, "%s fired %d times", id, c)
			}
		})
	}
}
