package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/delivery"
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

// BenchmarkSaveCursors measures one flush of a node's acknowledged
// cursors: 200 known recipients, every one moving forward, in one call.
func BenchmarkSaveCursors(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchmarkSaveCursors(b, Config{DataDir: b.TempDir()}, 0)
	})
	b.Run("postgres", func(b *testing.B) {
		skipWithoutPostgres(b)
		benchmarkSaveCursors(b, Config{DatabaseURL: postgresURL(b)}, 0)
	})
	// A live node's flushes vary in size: whoever acked in the interval.
	b.Run("postgres-varying", func(b *testing.B) {
		skipWithoutPostgres(b)
		benchmarkSaveCursors(b, Config{DatabaseURL: postgresURL(b)}, 50)
	})
}

// benchmarkSaveCursors saves 200 recipients' cursors a call, all of them,
// or with vary > 0 the first 200 - (call % vary) of them.
func benchmarkSaveCursors(b *testing.B, cfg Config, vary int) {
	const recipients = 200
	ctx := context.Background()
	s, err := Open(ctx, cfg, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	ids := make([]delivery.RecipientID, recipients)
	for i := range ids {
		ids[i] = delivery.RecipientID{Tenant: "t1", Role: "driver", User: fmt.Sprintf("d%03d", i)}
	}
	m := make(map[delivery.RecipientID]delivery.Cursor, recipients)
	var pos uint64
	b.ReportAllocs()
	for b.Loop() {
		pos++
		clear(m)
		n := recipients
		if vary > 0 {
			n -= int(pos) % vary
		}
		for i, id := range ids[:n] {
			m[id] = delivery.Cursor{Pos: pos, Seq: pos + uint64(i)}
		}
		if err := s.SaveCursors(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c, found, err := s.cursor(ctx, s.w, ids[0])
	if err != nil || !found || c.Pos != pos {
		b.Fatalf("last cursor %+v (found %v, err %v), want pos %d", c, found, err, pos)
	}
}
