package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// TestServeRESTDriver: on a real node, a driver that speaks REST only
// finds an order in GET /pickups and takes it to the door; the customer's
// socket hears every step as order:status, as if the driver had used the
// /drivers namespace.
func TestServeRESTDriver(t *testing.T) {
	s := start(t, map[string]string{"DISPATCH_JWT_SECRET": benchSecret}, "serve", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sign := func(role orders.Role, sub string) string {
		tok, err := auth.Sign(auth.Config{Secret: []byte(benchSecret)}, auth.Claims{Subject: sub, Tenant: "acme", Role: role}, time.Hour, time.Now())
		require.NoError(t, err)
		return tok
	}
	call := func(method, path, token string, body any) (int, []byte) {
		var r io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			require.NoError(t, err)
			r = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://"+s.addr+"/api/v1"+path, r)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, raw
	}

	status, raw := call(http.MethodPost, "/orders", sign(orders.RoleVendor, "v1"), map[string]any{"store": "S", "customerId": "c1",
		"pickup": map[string]any{"address": "a", "lat": 1, "lng": 2}, "dropoff": map[string]any{"address": "b", "lat": 3, "lng": 4}})
	require.Equal(t, http.StatusCreated, status, string(raw))
	var o orders.Order
	require.NoError(t, json.Unmarshal(raw, &o))

	c, err := sioclient.Dial(ctx, "http://"+s.addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Connect(ctx, "/customers", map[string]string{"token": sign(orders.RoleCustomer, "c1")})
	require.NoError(t, err)
	_, err = c.Call(ctx, "/customers", "order:watch", map[string]any{"orderId": o.ID})
	require.NoError(t, err)

	driver := sign(orders.RoleDriver, "d1")
	status, raw = call(http.MethodGet, "/pickups", driver, nil)
	require.Equal(t, http.StatusOK, status, string(raw))
	assert.Contains(t, string(raw), o.ID)
	for _, step := range []string{"claim", "picked-up", "in-transit", "delivered"} {
		status, raw = call(http.MethodPost, "/orders/"+o.ID+"/"+step, driver, nil)
		require.Equal(t, http.StatusOK, status, "%s: %s", step, raw)
	}

	var heard []orders.Status
	want := []orders.Status{orders.Assigned, orders.PickedUp, orders.InTransit, orders.Delivered}
	for len(heard) < len(want) {
		select {
		case ev := <-c.Events:
			if ev.AckID != nil {
				require.NoError(t, c.Ack(ev))
			}
			if ev.Name != "order:status" {
				continue
			}
			var st struct {
				OrderID string        `json:"orderId"`
				Status  orders.Status `json:"status"`
			}
			require.NoError(t, json.Unmarshal(ev.Args[0], &st))
			if st.OrderID == o.ID && st.Status != orders.Ready {
				heard = append(heard, st.Status)
			}
		case <-ctx.Done():
			t.Fatalf("the customer heard only %v", heard)
		}
	}
	assert.Equal(t, want, heard)
}
