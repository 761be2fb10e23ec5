package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// newWebhookFixture serves the REST API with a webhook sink on the
// fixture's store and a real embedded log (not running: the API alone).
func newWebhookFixture(t *testing.T, rc Config) *fixture {
	t.Helper()
	f := newFixtureConfig(t, rc)
	log := zaptest.NewLogger(t)
	br, err := broker.Open(context.Background(), broker.Config{DataDir: t.TempDir()}, log)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		br.Close(ctx)
	})
	rc.Webhooks = webhooks.New(webhooks.Config{AllowPrivate: true}, br, f.store, log)
	f.e = echo.New()
	Register(f.e.Group("/api/v1"), rc, f.svc, mustVerifier(t, f), log)
	return f
}

func (r response) webhook(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// TestWebhooksAPI: registration, listing, reading, the delivery log,
// manual retry and deletion, each scoped to the calling vendor, every
// answer checked against api/openapi.yaml.
func TestWebhooksAPI(t *testing.T) {
	f := newWebhookFixture(t, Config{})
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	otherVendor := f.token(t, "t1", orders.RoleVendor, "v2")
	customer := f.token(t, "t1", orders.RoleCustomer, "c1")
	got := 0
	var gotID string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got++
		gotID = r.Header.Get(webhooks.HeaderID)
	}))
	defer recv.Close()

	created := f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks", token: vendor,
		body: map[string]any{"url": recv.URL, "events": []string{"order.status", "order.delivered"}}})
	require.Equal(t, http.StatusCreated, created.status, string(created.body))
	ep := created.webhook(t)
	id := ep["id"].(string)
	assert.Equal(t, "/api/v1/webhooks/"+id, created.header.Get(echo.HeaderLocation))
	assert.True(t, strings.HasPrefix(ep["secret"].(string), "whsec_"))
	assert.Equal(t, "enabled", ep["status"])

	for _, bad := range []any{
		map[string]any{"url": "ftp://x.example/", "events": []string{"order.status"}},
		map[string]any{"url": recv.URL, "events": []string{}},
		map[string]any{"url": recv.URL, "events": []string{"order.unknown"}},
		map[string]any{"url": recv.URL, "events": []string{"order.status"}, "extra": 1},
		"not json",
	} {
		res := f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks", token: vendor, body: bad})
		assert.Equal(t, http.StatusBadRequest, res.status, "%v: %s", bad, res.body)
	}
	big := f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks", token: vendor,
		body: `{"url":"` + strings.Repeat("a", MaxBodyBytes) + `"}`})
	assert.Equal(t, http.StatusRequestEntityTooLarge, big.status)

	list := f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks", token: vendor})
	require.Equal(t, http.StatusOK, list.status)
	assert.Len(t, list.webhook(t)["webhooks"], 1)
	assert.NotContains(t, string(list.body), "whsec_", "the secret is shown once")
	others := f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks", token: otherVendor})
	require.Equal(t, http.StatusOK, others.status)
	assert.JSONEq(t, `{"webhooks":[]}`, string(others.body))

	get := f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks/" + id, token: vendor})
	require.Equal(t, http.StatusOK, get.status)
	assert.Equal(t, recv.URL, get.webhook(t)["url"])
	for _, path := range []string{"/api/v1/webhooks/nope", "/api/v1/webhooks/nope/deliveries"} {
		assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodGet, path: path, token: vendor}).status)
	}
	assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks/" + id, token: otherVendor}).status)

	// A delivery in the log, as the sink records a failed attempt.
	payload := `{"type":"order.status","timestamp":"2026-12-03T10:00:00Z","data":{"orderId":"o1"}}`
	d, err := f.store.RecordWebhookAttempt(context.Background(), webhooks.Attempt{
		Delivery: webhooks.Delivery{ID: orders.NewID(), EndpointID: id, MsgID: "msg_e1", Type: "order.status",
			OrderID: orders.NewID(), Pos: 7, Payload: []byte(payload)},
		Status: webhooks.DeliveryFailed, HTTP: 503, Err: "receiver answered 503", At: time.Now()})
	require.NoError(t, err)
	ds := f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks/" + id + "/deliveries", token: vendor})
	require.Equal(t, http.StatusOK, ds.status, string(ds.body))
	assert.Contains(t, string(ds.body), `"lastError":"receiver answered 503"`)
	assert.Equal(t, http.StatusBadRequest, f.do(t, request{method: http.MethodGet,
		path: "/api/v1/webhooks/" + id + "/deliveries?limit=0", token: vendor}).status)

	retry := f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks/" + id + "/deliveries/" + d.ID + "/retry", token: vendor})
	require.Equal(t, http.StatusOK, retry.status, string(retry.body))
	r := retry.webhook(t)
	assert.Equal(t, "succeeded", r["status"])
	assert.EqualValues(t, 2, r["attempts"])
	assert.Equal(t, 1, got)
	assert.Equal(t, "msg_e1", gotID)
	assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodPost,
		path: "/api/v1/webhooks/" + id + "/deliveries/nope/retry", token: vendor}).status)
	assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodPost,
		path: "/api/v1/webhooks/" + id + "/deliveries/" + d.ID + "/retry", token: otherVendor}).status)

	// A disabled endpoint comes back on where it stopped.
	require.NoError(t, f.store.DisableWebhook(context.Background(), id, time.Now(), "every attempt failed"))
	off := f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks/" + id, token: vendor}).webhook(t)
	assert.Equal(t, "disabled", off["status"])
	assert.NotEmpty(t, off["disabledAt"])
	assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks/" + id + "/enable", token: otherVendor}).status)
	on := f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks/" + id + "/enable", token: vendor})
	require.Equal(t, http.StatusOK, on.status, string(on.body))
	enabled := on.webhook(t)
	assert.Equal(t, "enabled", enabled["status"])
	assert.NotContains(t, enabled, "disabledAt")
	assert.NotContains(t, enabled, "disabledReason")

	// Only vendors manage webhooks.
	for _, rq := range webhookRequests(id, d.ID, recv.URL) {
		rq.token = customer
		assert.Equal(t, http.StatusForbidden, f.do(t, rq).status, "%s %s", rq.method, rq.path)
	}

	del := f.do(t, request{method: http.MethodDelete, path: "/api/v1/webhooks/" + id, token: vendor})
	require.Equal(t, http.StatusOK, del.status)
	assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodDelete, path: "/api/v1/webhooks/" + id, token: vendor}).status)
	assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks/" + id, token: vendor}).status)
}

// webhookRequests is one request of every webhook operation.
func webhookRequests(id, deliveryID, url string) []request {
	return []request{
		{method: http.MethodPost, path: "/api/v1/webhooks", body: map[string]any{"url": url, "events": []string{"order.status"}}},
		{method: http.MethodGet, path: "/api/v1/webhooks"},
		{method: http.MethodGet, path: "/api/v1/webhooks/" + id},
		{method: http.MethodDelete, path: "/api/v1/webhooks/" + id},
		{method: http.MethodPost, path: "/api/v1/webhooks/" + id + "/enable"},
		{method: http.MethodGet, path: "/api/v1/webhooks/" + id + "/deliveries"},
		{method: http.MethodPost, path: "/api/v1/webhooks/" + id + "/deliveries/" + deliveryID + "/retry"},
	}
}

// TestWebhooksLimit: at most 20 endpoints per vendor (409 past them).
func TestWebhooksLimit(t *testing.T) {
	f := newWebhookFixture(t, Config{EventBurst: 100, EventsPerSecond: 100})
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	body := map[string]any{"url": "https://hooks.example.com/in", "events": []string{"order.status"}}
	for range 20 {
		require.Equal(t, http.StatusCreated, f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks", token: vendor, body: body}).status)
	}
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks", token: vendor, body: body})
	assert.Equal(t, http.StatusConflict, res.status)
}

// TestWebhooksFailures: every webhook operation answers 401 without a
// token, 429 past the user's budget, and 500 (logged, nothing leaked)
// when the store fails; without a sink the routes answer 404.
func TestWebhooksFailures(t *testing.T) {
	f := newWebhookFixture(t, Config{EventsPerSecond: 0.001, EventBurst: 1})
	reqs := webhookRequests(orders.NewID(), orders.NewID(), "https://hooks.example.com/in")
	for _, rq := range reqs {
		assert.Equal(t, http.StatusUnauthorized, f.do(t, rq).status)
	}
	for i, rq := range reqs {
		rq.token = f.token(t, "t1", orders.RoleVendor, "limited")
		if i == 0 {
			require.NotEqual(t, http.StatusTooManyRequests, f.do(t, rq).status, "the burst's one request")
		}
		assert.Equal(t, http.StatusTooManyRequests, f.do(t, rq).status, "%s %s", rq.method, rq.path)
	}

	broken := newWebhookFixture(t, Config{})
	require.NoError(t, broken.store.Close())
	for _, rq := range reqs {
		rq.token = broken.token(t, "t1", orders.RoleVendor, "v1")
		res := broken.do(t, rq)
		assert.Equal(t, http.StatusInternalServerError, res.status, "%s %s: %s", rq.method, rq.path, res.body)
		assert.JSONEq(t, `{"error":{"code":"internal","message":"internal error"}}`, string(res.body))
	}

	// Not a documented answer: the binary always has a sink.
	off := newFixture(t)
	for _, rq := range reqs {
		rec := serve(off.e, newRequest(t, rq.method, rq.path, off.token(t, "t1", orders.RoleVendor, "v1")))
		assert.Equal(t, http.StatusNotFound, rec.Code)
	}
}

// TestWebhooksAdmin: the admin token registers and manages a tenant's
// tenant-wide endpoints, naming the tenant; it opens no other route, and
// a vendor cannot name another tenant.
func TestWebhooksAdmin(t *testing.T) {
	const admin = "the-admin-token-of-this-test"
	f := newWebhookFixture(t, Config{AdminToken: admin})
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	body := map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"order.status"}, "tenant": "t1"}

	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks", token: admin, body: body})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	id, _ := res.webhook(t)["id"].(string)
	require.NotEmpty(t, id)
	res = f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks?tenant=t1", token: admin})
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, string(res.body), id)
	assert.Equal(t, http.StatusOK, f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks/" + id + "?tenant=t1", token: admin}).status)
	assert.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks/" + id + "?tenant=t2", token: admin}).status,
		"another tenant's endpoint looks missing")
	assert.Equal(t, http.StatusBadRequest, f.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks", token: admin}).status,
		"the admin names the tenant")
	assert.Equal(t, http.StatusForbidden, f.do(t, request{method: http.MethodGet, path: "/api/v1/orders", token: admin}).status,
		"the admin token opens the webhook routes only")
	assert.Equal(t, http.StatusForbidden, f.do(t, request{method: http.MethodPost, path: "/api/v1/webhooks", token: vendor,
		body: map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"order.status"}, "tenant": "t2"}}).status,
		"a vendor names its own tenant only")
	assert.Equal(t, http.StatusOK, f.do(t, request{method: http.MethodDelete, path: "/api/v1/webhooks/" + id + "?tenant=t1", token: admin}).status)

	plain := newWebhookFixture(t, Config{})
	assert.Equal(t, http.StatusUnauthorized, plain.do(t, request{method: http.MethodGet, path: "/api/v1/webhooks?tenant=t1", token: admin}).status,
		"without DISPATCH_ADMIN_TOKEN there is no admin")
}
