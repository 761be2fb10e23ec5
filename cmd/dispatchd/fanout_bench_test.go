package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

const benchSecret = "a-secret-of-at-least-32-bytes!!!"

// BenchmarkPickupFanoutNodes measures a pickup reaching 200 drivers through
// the whole server (REST in, durable queues out, Socket.IO clients over
// loopback) on one node with the embedded defaults and, when
// DISPATCH_TEST_NATS_URL and DISPATCH_TEST_DATABASE_URL are set, on two
// nodes sharing PostgreSQL and NATS, with half the drivers on each and the
// orders posted through the first. Servers and clients share one process
// and the machine's cores.
//
//	DISPATCH_TEST_NATS_URL=nats://127.0.0.1:4222 \
//	DISPATCH_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	go test -run '^$' -bench PickupFanoutNodes -benchtime 200x ./cmd/dispatchd
func BenchmarkPickupFanoutNodes(b *testing.B) {
	b.Run("one-node-embedded", func(b *testing.B) {
		node := start(b, map[string]string{"DISPATCH_JWT_SECRET": benchSecret, "DISPATCH_LOG_LEVEL": "warn"}, "serve", "--addr", "127.0.0.1:0")
		fanoutBench(b, []*started{node})
	})
	b.Run("two-nodes", func(b *testing.B) {
		natsURL, dbURL := os.Getenv("DISPATCH_TEST_NATS_URL"), os.Getenv("DISPATCH_TEST_DATABASE_URL")
		if natsURL == "" || dbURL == "" {
			b.Skip("DISPATCH_TEST_NATS_URL and DISPATCH_TEST_DATABASE_URL are needed for two nodes")
		}
		suffix := fmt.Sprintf("%d", time.Now().UnixNano())
		env := map[string]string{
			"DISPATCH_JWT_SECRET": benchSecret,
			"DISPATCH_LOG_LEVEL":  "warn",
			// Eight posters of one vendor, unpaced: past the per-user limit.
			"DISPATCH_EVENTS_PER_SECOND": "100000",
			"DISPATCH_EVENT_BURST":       "100000",
			"DISPATCH_NATS_URL":          natsURL,
			"DISPATCH_NATS_STREAM":       "BENCH_" + suffix,
			"DISPATCH_NATS_PREFIX":       "bench" + suffix,
			"DISPATCH_DATABASE_URL":      freshSchema(b, dbURL),
		}
		a := start(b, env, "serve", "--addr", "127.0.0.1:0")
		c := start(b, env, "serve", "--addr", "127.0.0.1:0")
		fanoutBench(b, []*started{a, c})
	})
}

func fanoutBench(b *testing.B, nodes []*started) {
	const drivers = 200
	ctx := context.Background()
	cfg := auth.Config{Secret: []byte(benchSecret)}
	sign := func(role orders.Role, sub string) string {
		tok, err := auth.Sign(cfg, auth.Claims{Subject: sub, Tenant: "bench", Role: role}, time.Hour, time.Now())
		require.NoError(b, err)
		return tok
	}
	w := testproc.NewReach(drivers)
	wait := func(b *testing.B, id string) {
		if !w.Wait(id, 30*time.Second) {
			b.Fatalf("order %s did not reach all %d drivers", id, drivers)
		}
	}
	for i := range drivers {
		c, err := sioclient.Dial(ctx, "http://"+nodes[i%len(nodes)].addr)
		require.NoError(b, err)
		b.Cleanup(func() { _ = c.Close() })
		_, err = c.Connect(ctx, "/drivers", map[string]string{"token": sign(orders.RoleDriver, fmt.Sprintf("d%03d", i))})
		require.NoError(b, err)
		_, err = c.Call(ctx, "/drivers", "pickups:subscribe", map[string]any{})
		require.NoError(b, err)
		go w.Listen(c)
	}
	vendor := sign(orders.RoleVendor, "v1")
	body, err := json.Marshal(map[string]any{
		"store": "Bench", "customerId": "c1",
		"pickup":  map[string]any{"address": "1 Main St", "lat": 52.52, "lng": 13.40},
		"dropoff": map[string]any{"address": "9 Side St", "lat": 52.50, "lng": 13.42},
	})
	require.NoError(b, err)
	client := &http.Client{Timeout: 10 * time.Second}
	b.Cleanup(client.CloseIdleConnections)
	post := func() string {
		req, err := http.NewRequest(http.MethodPost, "http://"+nodes[0].addr+"/api/v1/orders", bytes.NewReader(body))
		require.NoError(b, err)
		req.Header.Set("Authorization", "Bearer "+vendor)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		require.NoError(b, err)
		defer res.Body.Close()
		require.Equal(b, http.StatusCreated, res.StatusCode)
		var o orders.Order
		require.NoError(b, json.NewDecoder(res.Body).Decode(&o))
		return o.ID
	}

	b.Run("latency", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			wait(b, post())
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	b.Run("throughput", func(b *testing.B) {
		ids := make(chan string, b.N)
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for p := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := p; i < b.N; i += 8 {
					ids <- post()
				}
			}()
		}
		wg.Wait()
		close(ids)
		for id := range ids {
			wait(b, id)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
		b.ReportMetric(float64(b.N*drivers)/time.Since(start).Seconds(), "deliveries/s")
	})
}
