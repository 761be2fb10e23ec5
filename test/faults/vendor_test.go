//go:build unix

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// vendor creates orders over REST.
type vendor struct {
	url    string // base URL of the node it posts to
	token  string
	client *http.Client
}

func newVendor(url, token string) *vendor {
	return &vendor{url: url, token: token, client: &http.Client{Timeout: 10 * time.Second}}
}

// create posts order n; it returns the new order's id on 201, and the
// status and body otherwise.
func (v *vendor) create(ctx context.Context, n int) (id string, status int, err error) {
	body, err := json.Marshal(map[string]any{
		"store":          fmt.Sprintf("Store %d", n),
		"customerId":     "c1",
		"pickup":         map[string]any{"address": "1 Pick St", "lat": 52.5, "lng": 13.4},
		"dropoff":        map[string]any{"address": "2 Drop St", "lat": 52.6, "lng": 13.5},
		"idempotencyKey": fmt.Sprintf("order-%d", n),
	})
	if err != nil {
		return "", 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url+"/api/v1/orders", bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := v.client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return "", res.StatusCode, err
	}
	if res.StatusCode != http.StatusCreated {
		return "", res.StatusCode, fmt.Errorf("POST /api/v1/orders: %s: %s", res.Status, raw)
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.ID == "" {
		return "", res.StatusCode, fmt.Errorf("POST /api/v1/orders: no order id in %s", raw)
	}
	return o.ID, res.StatusCode, nil
}

// unlimitedVendor is the environment that lifts the per-user event and
// request limits, for tests that post orders from one vendor as fast as
// they can: REST shares the sockets' per-user limit (20/s, bursts of 40).
func unlimitedVendor() []string {
	return []string{"DISPATCH_EVENTS_PER_SECOND=100000", "DISPATCH_EVENT_BURST=100000"}
}

// getOrder reads order id over REST.
func getOrder(t *testing.T, ctx context.Context, v *vendor, id string) orders.Order {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url+"/api/v1/orders/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+v.token)
	res, err := v.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "GET order %s: %s", id, raw)
	var o orders.Order
	require.NoError(t, json.Unmarshal(raw, &o))
	return o
}
