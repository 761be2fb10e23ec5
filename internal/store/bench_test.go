package store

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// BenchmarkClaim measures one order's create and claim, two write
// transactions, done sequentially.
func BenchmarkClaim(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchmarkClaim(b, Config{DataDir: b.TempDir()})
	})
	b.Run("postgres", func(b *testing.B) {
		skipWithoutPostgres(b)
		benchmarkClaim(b, Config{DatabaseURL: postgresURL(b)})
	})
}

func benchmarkClaim(b *testing.B, cfg Config) {
	ctx := context.Background()
	s, err := Open(ctx, cfg, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	n := newOrder("c1", "north")
	driver := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		o, _, err := s.CreateOrder(ctx, "t1", "v1", n, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, driver, now); err != nil {
			b.Fatal(err)
		}
	}
}
