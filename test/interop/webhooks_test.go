//go:build unix

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// webhooksVerifier is the node script that checks recorded requests with
// the Standard Webhooks reference library.
const webhooksVerifier = "webhooks-verify.mjs"

// webhooksConfig shortens the webhook settings for the test: a node that
// died is taken over after 2 s (15 s by default), and retries come within
// a second.
const webhooksConfig = `webhooks:
  lease: 2s
  poll: 200ms
  retry_min: 100ms
  retry_max: 1s
`

// TestWebhooksKill runs the real binary with a webhook registered over
// REST, kills it with SIGKILL while it delivers, starts it again on the
// same data, and checks that the receiver got every event at least once,
// in order per order, and that the npm standardwebhooks library verifies
// every request's signature.
func TestWebhooksKill(t *testing.T) {
	node := requireNode(t)
	bin := testproc.BuildT(t)
	t.Run("sqlite", func(t *testing.T) { runWebhooksKill(t, node, bin, "") })
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("DISPATCH_TEST_DATABASE_URL")
		if base == "" {
			t.Skip("DISPATCH_TEST_DATABASE_URL is not set")
		}
		runWebhooksKill(t, node, bin, testproc.FreshSchema(t, base, "hooks"))
	})
}

// recorded is one request as received.
type recorded struct {
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// hookReceiver records every request and answers 200 after a short
// pause, so that a kill lands mid-delivery.
type hookReceiver struct {
	mu   sync.Mutex
	reqs []recorded
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	time.Sleep(30 * time.Millisecond)
	h.mu.Lock()
	h.reqs = append(h.reqs, recorded{Body: string(body), Headers: map[string]string{
		"webhook-id":        r.Header.Get("webhook-id"),
		"webhook-timestamp": r.Header.Get("webhook-timestamp"),
		"webhook-signature": r.Header.Get("webhook-signature"),
	}})
	h.mu.Unlock()
}

func (h *hookReceiver) snapshot() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.reqs...)
}

func runWebhooksKill(t *testing.T, node, bin, databaseURL string) {
	recv := &hookReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	cfg := filepath.Join(t.TempDir(), "dispatchd.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(webhooksConfig), 0o600))
	secret := testproc.RandomHex(t, 32)
	env := []string{"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn",
		"DISPATCH_CONFIG=" + cfg, "DISPATCH_WEBHOOKS_ALLOW_PRIVATE=true",
		"DISPATCH_EVENTS_PER_SECOND=1000", "DISPATCH_EVENT_BURST=1000"}
	if databaseURL != "" {
		env = append(env, "DISPATCH_DATABASE_URL="+databaseURL)
	}
	p := testproc.Start(t, bin, env...)
	vendor := testproc.Sign(t, secret, "acme", orders.RoleVendor, "v1")

	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	status := call(t, p.URL, vendor, http.MethodPost, "/api/v1/webhooks",
		map[string]any{"url": srv.URL, "events": []string{"order.created", "order.status", "order.cancelled"}}, &ep)
	require.Equal(t, http.StatusCreated, status)

	want := map[string][]string{} // order id → message types, in order
	orderWave := func(n int) {
		for i := range n {
			var o orders.Order
			require.Equal(t, http.StatusCreated, call(t, p.URL, vendor, http.MethodPost, "/api/v1/orders", newOrderBody(), &o))
			want[o.ID] = []string{"order.status", "order.created"}
			if i%2 == 0 {
				require.Equal(t, http.StatusOK, call(t, p.URL, vendor, http.MethodPost, "/api/v1/orders/"+o.ID+"/cancel", nil, nil))
				want[o.ID] = append(want[o.ID], "order.status", "order.cancelled")
			}
		}
	}
	orderWave(40)
	waitUntil(t, 30*time.Second, "the first deliveries", func() bool { return len(recv.snapshot()) >= 30 })
	p.Kill(t)
	before := len(recv.snapshot())
	p = p.Restart(t)
	orderWave(10)
	total := 0
	for _, types := range want {
		total += len(types)
	}
	require.Less(t, before, total, "killed mid-delivery")
	waitUntil(t, 60*time.Second, "every message", func() bool { return len(distinctIDs(recv.snapshot())) >= total })

	reqs := recv.snapshot()
	got := map[string][]string{}
	seen := map[string]bool{}
	for _, r := range reqs {
		if seen[r.Headers["webhook-id"]] {
			continue
		}
		seen[r.Headers["webhook-id"]] = true
		var body struct {
			Type string `json:"type"`
			Data struct {
				OrderID string `json:"orderId"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Body), &body))
		got[body.Data.OrderID] = append(got[body.Data.OrderID], body.Type)
	}
	assert.Equal(t, want, got, "every event at least once, in order per order")
	t.Logf("%d messages, %d requests (%d duplicates), %d received before the kill", total, len(reqs), len(reqs)-total, before)

	file := filepath.Join(t.TempDir(), "requests.json")
	data, err := json.Marshal(map[string]any{"secret": ep.Secret, "requests": reqs})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o600))
	runNode(t, node, []string{webhooksVerifier, file})
}

func distinctIDs(reqs []recorded) map[string]bool {
	ids := map[string]bool{}
	for _, r := range reqs {
		ids[r.Headers["webhook-id"]] = true
	}
	return ids
}

// call makes one REST request and decodes the answer into out (if set).
func call(t *testing.T, base, token, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	if out != nil && res.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(raw, out), string(raw))
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode
}

func newOrderBody() map[string]any {
	return map[string]any{
		"store": "Pizza Nord", "customerId": "c1", "zone": "north",
		"pickup":  map[string]any{"address": "1 Main St", "lat": 52.52, "lng": 13.40},
		"dropoff": map[string]any{"address": "9 Side St", "lat": 52.50, "lng": 13.42},
		"items":   []map[string]any{{"name": "margherita", "qty": 2}},
	}
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWebhookDisabledReachesVendor: an endpoint that fails every attempt
// for webhooks.disable_after (1 s here) is disabled, and the vendor's
// socket, connected on the real binary, hears webhook:disabled.
func TestWebhookDisabledReachesVendor(t *testing.T) {
	bin := testproc.BuildT(t)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	cfg := filepath.Join(t.TempDir(), "dispatchd.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(webhooksConfig), 0o600))
	secret := testproc.RandomHex(t, 32)
	p := testproc.Start(t, bin, "DISPATCH_JWT_SECRET="+secret, "DISPATCH_DATA_DIR="+t.TempDir(),
		"DISPATCH_LOG_LEVEL=warn", "DISPATCH_CONFIG="+cfg, "DISPATCH_WEBHOOKS_ALLOW_PRIVATE=true",
		"DISPATCH_WEBHOOKS_DISABLE_AFTER=1s")
	vendor := testproc.Sign(t, secret, "acme", orders.RoleVendor, "v1")

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, p.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Connect(ctx, "/vendors", map[string]string{"token": vendor})
	require.NoError(t, err)

	var ep struct {
		ID string `json:"id"`
	}
	require.Equal(t, http.StatusCreated, call(t, p.URL, vendor, http.MethodPost, "/api/v1/webhooks",
		map[string]any{"url": failing.URL, "events": []string{"order.created"}}, &ep))
	require.Equal(t, http.StatusCreated, call(t, p.URL, vendor, http.MethodPost, "/api/v1/orders", newOrderBody(), nil))
	for {
		select {
		case <-ctx.Done():
			t.Fatal("no webhook:disabled within 30 s")
		case ev, ok := <-c.Events:
			require.True(t, ok, "the socket closed")
			if ev.Name != "webhook:disabled" {
				continue
			}
			var d struct {
				WebhookID string `json:"webhookId"`
				URL       string `json:"url"`
				Reason    string `json:"reason"`
				Seq       int    `json:"seq"`
			}
			require.NoError(t, json.Unmarshal(ev.Args[0], &d))
			assert.Equal(t, ep.ID, d.WebhookID)
			assert.Equal(t, failing.URL, d.URL)
			assert.Contains(t, d.Reason, "disable_after")
			assert.Positive(t, d.Seq)
			var got struct {
				Status string `json:"status"`
			}
			require.Equal(t, http.StatusOK, call(t, p.URL, vendor, http.MethodGet, "/api/v1/webhooks/"+ep.ID, nil, &got))
			assert.Equal(t, "disabled", got.Status)
			return
		}
	}
}
