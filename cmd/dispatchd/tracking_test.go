package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestServeTracking: on a real node, an order's trackingUrl is made of
// DISPATCH_PUBLIC_URL, and its token opens GET /api/v1/track/{token}
// without any Authorization, and /track/{token} is the page.
func TestServeTracking(t *testing.T) {
	s := start(t, map[string]string{"DISPATCH_JWT_SECRET": benchSecret, "DISPATCH_PUBLIC_URL": "https://track.example/shop/"},
		"serve", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	get := func(method, path, token string, body any) (int, []byte) {
		var r io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			require.NoError(t, err)
			r = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://"+s.addr+path, r)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, raw
	}
	vendor, err := auth.Sign(auth.Config{Secret: []byte(benchSecret)}, auth.Claims{Subject: "v1", Tenant: "acme", Role: orders.RoleVendor}, time.Hour, time.Now())
	require.NoError(t, err)
	status, raw := get(http.MethodPost, "/api/v1/orders", vendor, map[string]any{"store": "S", "customerId": "c1",
		"pickup": map[string]any{"address": "a", "lat": 1, "lng": 2}, "dropoff": map[string]any{"address": "b", "lat": 3, "lng": 4}})
	require.Equal(t, http.StatusCreated, status, string(raw))
	var o orders.Order
	require.NoError(t, json.Unmarshal(raw, &o))
	const prefix = "https://track.example/shop/track/"
	require.True(t, strings.HasPrefix(o.TrackingURL, prefix), o.TrackingURL)
	token := strings.TrimPrefix(o.TrackingURL, prefix)

	status, raw = get(http.MethodGet, "/api/v1/track/"+token, "", nil)
	require.Equal(t, http.StatusOK, status, string(raw))
	var tr orders.Tracking
	require.NoError(t, json.Unmarshal(raw, &tr))
	assert.Equal(t, orders.Ready, tr.Status)
	assert.NotContains(t, string(raw), "c1")

	status, raw = get(http.MethodGet, "/track/"+token, "", nil)
	assert.Equal(t, http.StatusOK, status, "the page")
	assert.Contains(t, string(raw), `id="timeline"`)
	assert.NotContains(t, string(raw), token, "the page never holds the token")
	status, raw = get(http.MethodGet, "/api/v1/track/"+strings.Repeat("A", 24), "", nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, string(raw), `"not_found"`)
}
