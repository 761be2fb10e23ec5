package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
)

// countingRelay is a dispatch.Relay that counts its wake-ups.
type countingRelay struct{ wakes atomic.Int32 }

func (r *countingRelay) Wake() { r.wakes.Add(1) }

type noLocations struct{}

func (noLocations) Publish(context.Context, string, string, []dispatch.Leg, dispatch.Location, time.Time) error {
	return nil
}

func (noLocations) PublishDuty(context.Context, orders.Duty) error { return nil }

// routed returns the statuses of orderID's changes in the outbox, in
// commit order: what the relay publishes.
func (f *fixture) routed(t testing.TB, orderID string) []orders.Status {
	t.Helper()
	entries, err := f.store.PendingOutbox(context.Background(), 10000)
	require.NoError(t, err)
	var out []orders.Status
	for _, e := range entries {
		if e.OrderID != orderID {
			continue
		}
		var ch orders.Change
		require.NoError(t, json.Unmarshal(e.Payload, &ch))
		out = append(out, ch.Event.Status)
	}
	return out
}

// testPublicURL is the fixture's http.public_url.
const testPublicURL = "https://track.example"

// fixture is a REST API over a real SQLite store and a real service.
type fixture struct {
	e     *echo.Echo
	store *store.Store
	svc   *dispatch.Service
	relay *countingRelay
	auth  auth.Config
	spec  *spec
	fleet *dispatch.Fleet
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureConfig(t, Config{})
}

func newFixtureConfig(t testing.TB, rc Config) *fixture {
	t.Helper()
	return newFixtureOn(t, rc, store.Config{DataDir: t.TempDir()})
}

// newFixtureOn is a fixture over the store sc opens (SQLite or
// PostgreSQL).
func newFixtureOn(t testing.TB, rc Config, sc store.Config) *fixture {
	t.Helper()
	log := zaptest.NewLogger(t)
	st, err := store.Open(context.Background(), sc, log)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	cfg := auth.Config{Secret: []byte("rest-test-secret")}
	verifier, err := auth.NewVerifier(cfg)
	require.NoError(t, err)
	relay := &countingRelay{}
	svc := dispatch.NewService(st, relay, noLocations{}, nil, nil)
	// The fleet places couriers on the tracking view; nothing else here
	// feeds it.
	fleet := dispatch.NewFleet(time.Minute, nil)
	svc.EnableETA(fleet, dispatch.DefaultConfig().ETA())
	svc.EnableTracking(st, fleet, dispatch.TrackingConfig{PublicURL: testPublicURL})

	e := echo.New()
	Register(e.Group("/api/v1"), rc, svc, verifier, log)
	RegisterTracking(e, rc, svc, log)
	return &fixture{e: e, store: st, svc: svc, relay: relay, auth: cfg, spec: loadSpec(t), fleet: fleet}
}

// token signs a one-hour token.
func (f *fixture) token(t testing.TB, tenant string, role orders.Role, sub string) string {
	t.Helper()
	tok, err := auth.Sign(f.auth, auth.Claims{Subject: sub, Tenant: tenant, Role: role}, time.Hour, time.Now())
	require.NoError(t, err)
	return tok
}

// claims is what token(t, tenant, role, sub) speaks for, to drive the
// service directly.
func claims(tenant string, role orders.Role, sub string) auth.Claims {
	return auth.Claims{Subject: sub, Tenant: tenant, Role: role}
}

// request describes one call.
type request struct {
	method string
	path   string
	token  string // empty: no Authorization header
	body   any    // string and []byte are sent as they are; anything else as JSON
	header map[string]string
	remote string // the peer's address (host:port); empty: httptest's
}

// response is what came back; every response has been checked against
// api/openapi.yaml already.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do serves req and validates the response against the OpenAPI document.
func (f *fixture) do(t testing.TB, req request) response {
	t.Helper()
	var raw []byte
	switch b := req.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(t, err)
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(raw)
	}
	r := httptest.NewRequest(req.method, req.path, body)
	if body != nil {
		r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		// The spec check reads the body again after the handler did.
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	}
	if req.token != "" {
		r.Header.Set(echo.HeaderAuthorization, "Bearer "+req.token)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	if req.remote != "" {
		r.RemoteAddr = req.remote
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, r)
	f.spec.check(t, r, rec)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// order decodes a single-order body.
func (r response) order(t testing.TB) orders.Order {
	t.Helper()
	var o orders.Order
	require.NoError(t, json.Unmarshal(r.body, &o), string(r.body))
	return o
}

// errorCode decodes an error body.
func (r response) errorCode(t testing.TB) orders.Code {
	t.Helper()
	var e errorBody
	require.NoError(t, json.Unmarshal(r.body, &e), string(r.body))
	require.NotEmpty(t, e.Error.Message)
	return e.Error.Code
}

// newOrder is a valid order:create payload.
func newOrder(customer string) map[string]any {
	return map[string]any{
		"store":      "Pizza Nord",
		"customerId": customer,
		"zone":       "north",
		"pickup":     map[string]any{"address": "1 Main St", "lat": 52.52, "lng": 13.40},
		"dropoff":    map[string]any{"address": "9 Side St", "lat": 52.50, "lng": 13.42},
		"items":      []map[string]any{{"name": "margherita", "qty": 2}},
	}
}

// create posts newOrder(customer) as vendor and returns the order.
func (f *fixture) create(t testing.TB, tenant, vendor, customer string) orders.Order {
	t.Helper()
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders",
		token: f.token(t, tenant, orders.RoleVendor, vendor), body: newOrder(customer)})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	return res.order(t)
}

func mustVerifier(t testing.TB, f *fixture) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(f.auth)
	require.NoError(t, err)
	return v
}

// newRequest builds a bodiless authenticated request.
func newRequest(t testing.TB, method, target, token string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}
