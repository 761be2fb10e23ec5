package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// BenchmarkOrderLifecycle measures what the dispatch load puts on the
// store: many orders at once, each created, claimed by three drivers at
// the same moment (one wins, two are refused, some of them inside the
// group writer's transaction) and moved on twice by its winner. Writes of
// concurrent orders share the SQLite group writer's transactions, as on a
// busy node. It reports the process's CPU (user and sys) per order beside
// the wall time, which on a shared box says more than ns/op.
func BenchmarkOrderLifecycle(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchmarkOrderLifecycle(b, Config{DataDir: b.TempDir()})
	})
	b.Run("postgres", func(b *testing.B) {
		skipWithoutPostgres(b)
		benchmarkOrderLifecycle(b, Config{DatabaseURL: postgresURL(b)})
	})
}

func benchmarkOrderLifecycle(b *testing.B, cfg Config) {
	ctx := context.Background()
	s, err := Open(ctx, cfg, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	n := newOrder("c1", "north")
	b.ReportAllocs()
	b.SetParallelism(4) // 4 × GOMAXPROCS orders in flight
	user0, sys0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := oneLifecycle(ctx, s, n); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	user1, sys1 := processCPU(b)
	b.ReportMetric(float64((user1-user0).Microseconds())/float64(b.N), "user-µs/order")
	b.ReportMetric(float64((sys1-sys0).Microseconds())/float64(b.N), "sys-µs/order")
	w, c := s.WriteCounts()
	if c > 0 {
		b.ReportMetric(float64(w)/float64(c), "writes/commit")
	}
}

// oneLifecycle creates an order, races three claims on it and moves it on
// twice by the winner.
func oneLifecycle(ctx context.Context, s *Store, n orders.NewOrder) error {
	now := time.Now()
	o, _, err := s.CreateOrder(ctx, "t1", "v1", n, now)
	if err != nil {
		return err
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		winner string
		errs   []error
	)
	for i := range 3 {
		wg.Go(func() {
			d := orders.Actor{Role: orders.RoleDriver, ID: fmt.Sprintf("d%d", i)}
			_, ev, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, d, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && ev != nil:
				winner = d.ID
			case err != nil && !errors.Is(err, orders.ErrAlreadyClaimed):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if winner == "" {
		return fmt.Errorf("order %s: no claim won", o.ID)
	}
	d := orders.Actor{Role: orders.RoleDriver, ID: winner}
	for _, a := range []orders.Action{orders.ActionPickUp, orders.ActionInTransit} {
		if _, _, err := s.Transition(ctx, "t1", o.ID, a, d, now); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	return nil
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) (user, sys time.Duration) {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
