package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// TestMetrics plays one pickup through a node and reads what /metrics
// says of it.
func TestMetrics(t *testing.T) {
	s := start(t, map[string]string{"DISPATCH_JWT_SECRET": benchSecret}, "serve", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sign := func(role orders.Role, sub string) string {
		tok, err := auth.Sign(auth.Config{Secret: []byte(benchSecret)}, auth.Claims{Subject: sub, Tenant: "acme", Role: role}, time.Hour, time.Now())
		require.NoError(t, err)
		return tok
	}
	d, err := sioclient.Dial(ctx, "http://"+s.addr)
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Connect(ctx, "/drivers", map[string]string{"token": sign(orders.RoleDriver, "d1")})
	require.NoError(t, err)
	_, err = d.Call(ctx, "/drivers", "pickups:subscribe", map[string]any{})
	require.NoError(t, err)
	_, err = d.Call(ctx, "/drivers", "pickup:claim", map[string]any{"orderId": orders.NewID()})
	require.NoError(t, err)

	body, _ := json.Marshal(map[string]any{"store": "S", "customerId": "c1",
		"pickup": map[string]any{"address": "a", "lat": 1, "lng": 2}, "dropoff": map[string]any{"address": "b", "lat": 3, "lng": 4}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.addr+"/api/v1/orders", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+sign(orders.RoleVendor, "v1"))
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{}).Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	select {
	case ev := <-d.Events:
		require.Equal(t, "pickup:available", ev.Name)
		require.NoError(t, d.Ack(ev))
	case <-ctx.Done():
		t.Fatal("no pickup")
	}

	var text string
	require.Eventually(t, func() bool {
		_, text = get(t, "http://"+s.addr+"/metrics")
		// The ack is timed before the queue lets go of the event: wait
		// for both.
		return strings.Contains(text, "dispatchd_ack_latency_seconds_count 1") && strings.Contains(text, "dispatchd_queue_in_flight 0")
	}, waitTimeout, 10*time.Millisecond, "the ack is counted and the queue is empty")
	for _, want := range []string{
		`dispatchd_sockets{namespace="/drivers"} 1`,
		`dispatchd_sockets{namespace="/vendors"} 0`,
		`dispatchd_sessions 1`,
		`dispatchd_events_in_total{event="pickups:subscribe",namespace="/drivers",result="ok"} 1`,
		`dispatchd_events_in_total{event="pickup:claim",namespace="/drivers",result="not_found"} 1`,
		`dispatchd_events_out_total{event="pickup:available",source="live"} 1`,
		`dispatchd_broker_publish_seconds_count 3`,
		`dispatchd_db_seconds_count{op="create_order"} 1`,
		`dispatchd_queue_recipients 1`,
		`dispatchd_tenants_connected 1`,
		`dispatchd_slow_consumer_evictions_total 0`,
		`dispatchd_claim_conflicts_total 0`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		assert.Contains(t, text, want)
	}
	// Group commit: every write is counted, and no commit is empty.
	writes, commits := metricValue(t, text, "dispatchd_db_writes_total"), metricValue(t, text, "dispatchd_db_commits_total")
	assert.GreaterOrEqual(t, commits, 3.0, "create, cursor and subscription at least")
	assert.GreaterOrEqual(t, writes, commits)
	assert.NotContains(t, text, sign(orders.RoleVendor, "v1")[:20], "no token in metrics")
}

// metricValue reads an unlabelled sample from a /metrics text.
func metricValue(t *testing.T, text, name string) float64 {
	t.Helper()
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, line)
			return f
		}
	}
	require.Failf(t, "metric missing", "%s not in /metrics", name)
	return 0
}
