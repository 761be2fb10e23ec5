package dispatch

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/testproc"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// benchDrivers is the fan-out of one pickup.
const benchDrivers = 200

// BenchmarkPickupFanout measures one pickup reaching 200 subscribed
// drivers over loopback WebSockets, one order at a time (ns/op is the
// latency until the last driver has it): durable (committed in SQLite,
// stored on the embedded JetStream log, one seq and one ack per driver)
// against an at-most-once room broadcast of the same payload on the same
// transport, the way a stock Socket.IO server sends it.
//
//	go test -run '^$' -bench PickupFanout -benchtime 200x ./internal/dispatch
func BenchmarkPickupFanout(b *testing.B) {
	e := newEnvLog(b, Config{}, zap.NewNop())
	// The best-effort baseline: a namespace whose sockets join one room.
	e.srv.Of("/bench").OnConnection(func(s *transport.Socket) { s.Join("all") })

	f := testproc.NewReach(benchDrivers)
	reached := func(b *testing.B, id string, timeout time.Duration) {
		if !f.Wait(id, timeout) {
			b.Fatalf("order %s did not reach every driver", id)
		}
	}
	ctx := context.Background()
	for i := range benchDrivers {
		c, err := sioclient.Dial(ctx, e.url)
		require.NoError(b, err)
		b.Cleanup(func() { _ = c.Close() })
		sub := "d" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		_, err = c.Connect(ctx, "/drivers", map[string]string{"token": token(b, "acme", orders.RoleDriver, sub)})
		require.NoError(b, err)
		_, err = c.Connect(ctx, "/bench", nil)
		require.NoError(b, err)
		_, err = c.Call(ctx, "/drivers", "pickups:subscribe", map[string]any{})
		require.NoError(b, err)
		go f.Listen(c)
	}
	vendor := auth.Claims{Subject: "v1", Tenant: "acme", Role: orders.RoleVendor}

	run := func(b *testing.B, send func(i int) string) {
		var lat []time.Duration
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			id := send(i)
			reached(b, id, 10*time.Second)
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	create := func() string {
		n := orders.NewOrder{}
		require.NoError(b, json.Unmarshal(mustJSON(b, newOrder("c1")), &n))
		o, _, err := e.svc.CreateOrder(ctx, vendor, n)
		require.NoError(b, err)
		return o.ID
	}
	b.Run("durable", func(b *testing.B) {
		run(b, func(int) string { return create() })
	})
	// Throughput: 8 vendors post b.N orders as fast as they can; ns/op is
	// the time per order until every driver has every one.
	b.Run("durable-throughput", func(b *testing.B) {
		ids := make(chan string, b.N)
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < b.N; i += 8 {
					ids <- create()
				}
			}()
		}
		wg.Wait()
		close(ids)
		for id := range ids {
			reached(b, id, 30*time.Second)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
		b.ReportMetric(float64(b.N*benchDrivers)/time.Since(start).Seconds(), "deliveries/s")
	})
	b.Run("best-effort", func(b *testing.B) {
		o := orders.Order{Tenant: "acme", VendorID: "v1", Status: orders.Ready}
		run(b, func(int) string {
			o.ID = orders.NewID()
			require.NoError(b, e.srv.Of("/bench").To("all").Emit("pickup:available", map[string]any{"order": o}))
			return o.ID
		})
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
