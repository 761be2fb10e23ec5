package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// The ids of the leak test: distinctive, so that any of them showing up
// in a tracking body is found by a plain substring search.
const (
	leakTenant   = "tenant-5e1fa"
	leakVendor   = "vendor-7f3ab"
	leakCustomer = "customer-91bd"
	leakDriver   = "driver-c0de9"
	leakStore    = "Store Secret 42"
	leakZone     = "zone-x77q"
	leakReason   = "reason-text-k2v"
)

// trackedOrder posts an order with a PIN as the leak test's vendor and
// returns it as the vendor sees it, with its token.
func (f *fixture) trackedOrder(t testing.TB) (orders.Order, string) {
	t.Helper()
	n := newOrder(leakCustomer)
	n["store"], n["zone"], n["proof"] = leakStore, leakZone, "pin"
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders",
		token: f.token(t, leakTenant, orders.RoleVendor, leakVendor), body: n})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	o := res.order(t)
	require.True(t, strings.HasPrefix(o.TrackingURL, testPublicURL+"/track/"), o.TrackingURL)
	return o, strings.TrimPrefix(o.TrackingURL, testPublicURL+"/track/")
}

func (f *fixture) track(t testing.TB, token string, header map[string]string) response {
	t.Helper()
	return f.do(t, request{method: http.MethodGet, path: "/api/v1/track/" + token, header: header})
}

// TestTrackingURLInREST: the vendor's and customer's order answers carry
// the trackingUrl, the driver's never do.
func TestTrackingURLInREST(t *testing.T) {
	f := newFixture(t)
	o, token := f.trackedOrder(t)
	require.Regexp(t, `^[A-Za-z0-9_-]{24}$`, token)
	for role, sub := range map[orders.Role]string{orders.RoleVendor: leakVendor, orders.RoleCustomer: leakCustomer, orders.RoleDriver: leakDriver} {
		tok := f.token(t, leakTenant, role, sub)
		for _, path := range []string{"/api/v1/orders/" + o.ID, "/api/v1/pickups", "/api/v1/orders"} {
			res := f.do(t, request{method: http.MethodGet, path: path, token: tok})
			if res.status == http.StatusForbidden {
				continue // pickups are the drivers'
			}
			require.Equal(t, http.StatusOK, res.status, "%s %s", role, path)
			if role == orders.RoleDriver {
				assert.NotContains(t, string(res.body), token, "%s %s", role, path)
				assert.NotContains(t, string(res.body), "trackingUrl", "%s %s", role, path)
			} else {
				assert.Contains(t, string(res.body), `"trackingUrl":"`+o.TrackingURL+`"`, "%s %s", role, path)
			}
		}
	}
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders/" + o.ID + "/claim", token: f.token(t, leakTenant, orders.RoleDriver, leakDriver)})
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.NotContains(t, string(res.body), token)
}

// TestTrackREST: the tracking JSON needs no login, follows the order,
// answers 304 to If-None-Match while nothing changed, and 404 alike to
// an unknown or malformed token.
func TestTrackREST(t *testing.T) {
	f := newFixture(t)
	o, token := f.trackedOrder(t)

	res := f.track(t, token, nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	var tr orders.Tracking
	require.NoError(t, json.Unmarshal(res.body, &tr))
	assert.Equal(t, orders.Ready, tr.Status)
	assert.True(t, tr.PINRequired)
	require.Len(t, tr.Timeline, 1)
	assert.Equal(t, "private, no-cache", res.header.Get("Cache-Control"))
	etag := res.header.Get("ETag")
	require.Regexp(t, `^"[A-Za-z0-9_-]+"$`, etag)

	for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
		res = f.track(t, token, map[string]string{"If-None-Match": inm})
		require.Equal(t, http.StatusNotModified, res.status, inm)
		assert.Empty(t, res.body)
		assert.Equal(t, etag, res.header.Get("ETag"))
	}
	res = f.track(t, token, map[string]string{"If-None-Match": `"other"`})
	require.Equal(t, http.StatusOK, res.status)

	_, err := f.svc.Act(context.Background(), claims(leakTenant, orders.RoleDriver, leakDriver), o.ID, orders.ActionClaim)
	require.NoError(t, err)
	res = f.track(t, token, map[string]string{"If-None-Match": etag})
	require.Equal(t, http.StatusOK, res.status, "changed: a new body")
	require.NoError(t, json.Unmarshal(res.body, &tr))
	assert.Equal(t, orders.Assigned, tr.Status)
	assert.Nil(t, tr.Courier, "no position known yet")
	assert.NotEqual(t, etag, res.header.Get("ETag"))
	etag = res.header.Get("ETag")

	// The courier moves: the view (checked against the document) shows
	// it with an ETA, under a new ETag.
	f.fleet.ApplyDuty(orders.Duty{Tenant: leakTenant, DriverID: leakDriver, OnDuty: true, UpdatedAt: time.Now()})
	f.fleet.Observe(leakTenant, leakDriver, geo.Point{Lat: 52.51, Lng: 13.41}, time.Now())
	res = f.track(t, token, map[string]string{"If-None-Match": etag})
	require.Equal(t, http.StatusOK, res.status, "the courier moved: a new body")
	require.NoError(t, json.Unmarshal(res.body, &tr))
	require.NotNil(t, tr.Courier)
	assert.InDelta(t, 52.51, tr.Courier.Lat, 1e-9)
	require.NotNil(t, tr.ETASeconds)
	assert.NotContains(t, string(res.body), leakDriver)
	assert.NotEqual(t, etag, res.header.Get("ETag"))

	var first string
	for _, bad := range []string{strings.Repeat("A", 24), "short", o.ID, token + "x", "%00" + token} {
		res = f.track(t, bad, nil)
		require.Equal(t, http.StatusNotFound, res.status, bad)
		assert.Equal(t, orders.CodeNotFound, res.errorCode(t))
		if first == "" {
			first = string(res.body)
		}
		assert.Equal(t, first, string(res.body), "every refusal reads the same")
	}

	require.NoError(t, f.store.Close())
	res = f.track(t, token, nil)
	require.Equal(t, http.StatusInternalServerError, res.status)
	assert.Equal(t, orders.CodeInternal, res.errorCode(t))
}

// TestTrackLeaksNothing: whatever the order's status, the tracking JSON
// holds no tenant, order, vendor, customer or driver id, no store, zone
// or reason of the log, and no PIN. On SQLite, and on PostgreSQL when
// DISPATCH_TEST_DATABASE_URL is set.
func TestTrackLeaksNothing(t *testing.T) {
	backends := map[string]func(t *testing.T) store.Config{
		"sqlite": func(t *testing.T) store.Config { return store.Config{DataDir: t.TempDir()} },
	}
	if base := os.Getenv("DISPATCH_TEST_DATABASE_URL"); base != "" {
		backends["postgres"] = func(t *testing.T) store.Config {
			return store.Config{DatabaseURL: testproc.FreshSchema(t, base, "rest_track")}
		}
	}
	for name, sc := range backends {
		t.Run(name, func(t *testing.T) { testTrackLeaksNothing(t, newFixtureOn(t, Config{}, sc(t))) })
	}
}

func testTrackLeaksNothing(t *testing.T, f *fixture) {
	ctx := context.Background()
	driver := claims(leakTenant, orders.RoleDriver, leakDriver)
	vendor := claims(leakTenant, orders.RoleVendor, leakVendor)
	customer := claims(leakTenant, orders.RoleCustomer, leakCustomer)
	act := func(t *testing.T, f *fixture, id string, reqs ...orders.Request) {
		for _, r := range reqs {
			c := driver
			if r.Action == orders.ActionCancel {
				c = vendor
			}
			_, err := f.svc.Perform(ctx, c, id, r)
			require.NoError(t, err, r.Action)
		}
	}
	claim := orders.Request{Action: orders.ActionClaim}
	// Unassigned once with a reason, so the log holds free text.
	unassign := orders.Request{Action: orders.ActionUnassign, Reason: leakReason}
	pick := orders.Request{Action: orders.ActionPickUp}
	transit := orders.Request{Action: orders.ActionInTransit}
	tests := []struct {
		status orders.Status
		reqs   []orders.Request
	}{
		{orders.Ready, []orders.Request{claim, unassign}},
		{orders.Assigned, []orders.Request{claim, unassign, claim}},
		{orders.PickedUp, []orders.Request{claim, pick}},
		{orders.InTransit, []orders.Request{claim, pick, transit}},
		{orders.Delivered, []orders.Request{claim, pick, transit, {Action: orders.ActionDeliver}}},
		{orders.Cancelled, []orders.Request{claim, unassign, {Action: orders.ActionCancel, Reason: leakReason}}},
		{orders.Failed, []orders.Request{claim, pick, {Action: orders.ActionFail, Reason: string(orders.ReasonCustomerAbsent)}}},
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			o, token := f.trackedOrder(t)
			watched, _, err := f.svc.Watch(ctx, customer, o.ID)
			require.NoError(t, err)
			for i, r := range tc.reqs {
				if r.Action == orders.ActionDeliver {
					tc.reqs[i].PIN = watched.PIN
				}
			}
			act(t, f, o.ID, tc.reqs...)
			res := f.track(t, token, nil)
			require.Equal(t, http.StatusOK, res.status, string(res.body))
			var tr orders.Tracking
			require.NoError(t, json.Unmarshal(res.body, &tr))
			require.Equal(t, tc.status, tr.Status)

			body := string(res.body)
			for _, secret := range []string{leakTenant, leakVendor, leakCustomer, leakDriver, leakStore, leakZone, leakReason,
				o.ID, token, `"` + watched.PIN + `"`} {
				assert.NotContains(t, body, secret)
			}
			var fields map[string]any
			require.NoError(t, json.Unmarshal(res.body, &fields))
			for _, key := range []string{"id", "tenant", "vendorId", "customerId", "driverId", "store", "zone", "pin", "version", "dispatch", "trackingUrl"} {
				assert.NotContains(t, fields, key)
			}
		})
	}
}

// TestTrackRateLimited: each client IP has its own budget, taken before
// the lookup (unknown tokens count); a public peer cannot escape it with
// X-Forwarded-For, while a private peer (a proxy) names its clients so.
func TestTrackRateLimited(t *testing.T) {
	f := newFixtureConfig(t, Config{TrackPerSecond: 0.01, TrackBurst: 2})
	_, token := f.trackedOrder(t)
	get := func(remote, xff string) response {
		h := map[string]string{}
		if xff != "" {
			h["X-Forwarded-For"] = xff
		}
		return f.do(t, request{method: http.MethodGet, path: "/api/v1/track/" + token, header: h, remote: remote})
	}
	require.Equal(t, http.StatusOK, get("203.0.113.7:5000", "").status)
	require.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodGet, path: "/api/v1/track/" + strings.Repeat("B", 24), remote: "203.0.113.7:5001"}).status)
	res := get("203.0.113.7:5002", "")
	require.Equal(t, http.StatusTooManyRequests, res.status)
	assert.Equal(t, orders.CodeRateLimited, res.errorCode(t))
	assert.NotEmpty(t, res.header.Get("Retry-After"))
	assert.Equal(t, http.StatusTooManyRequests, get("203.0.113.7:5003", "198.51.100.1").status, "a public peer's X-Forwarded-For is not believed")

	assert.Equal(t, http.StatusOK, get("203.0.113.8:5000", "").status, "another address has its own budget")
	for range 2 {
		require.Equal(t, http.StatusOK, get("10.0.0.2:4000", "198.51.100.1").status)
	}
	assert.Equal(t, http.StatusTooManyRequests, get("10.0.0.2:4000", "198.51.100.1").status)
	assert.Equal(t, http.StatusOK, get("10.0.0.2:4000", "198.51.100.2").status, "behind a proxy, each client has its own budget")
}

// TestProxyClientIP: behind a private proxy the client is the nearest
// public address of X-Forwarded-For, read from the right; an address the
// client wrote left of private hops does not choose its budget, and an
// IPv6 client counts by its /64.
func TestProxyClientIP(t *testing.T) {
	tests := []struct{ remote, xff, want string }{
		{"203.0.113.7:1", "198.51.100.1", "203.0.113.7"},          // a public peer: XFF ignored
		{"10.0.0.2:1", "198.51.100.1", "198.51.100.1"},            // behind the proxy
		{"10.0.0.2:1", "1.2.3.4, 198.51.100.1", "198.51.100.1"},   // the client's own entry is left
		{"10.0.0.2:1", "198.51.100.9, 10.0.0.7", "198.51.100.9"},  // a second private hop
		{"10.0.0.2:1", "10.9.9.9", "10.0.0.2"},                    // no public address: the peer
		{"10.0.0.2:1", "10.9.9.9, nonsense", "10.0.0.2"},          // a mangled chain
		{"[2001:db8:1:2:3:4:5:6]:1", "", "2001:db8:1:2::/64"},     // IPv6 by /64
		{"[::1]:1", "2001:db8:1:2::99, ::1", "2001:db8:1:2::/64"}, // via a loopback proxy
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		assert.Equal(t, tt.want, proxyClientIP(r), "%s %q", tt.remote, tt.xff)
	}
}

// TestTrackBudgetFitsTabsBehindNAT: with the default budget, tracking
// pages on one address (each loading, then polling every 500 ms, as
// track.js does while visible) are never refused up to 10 tabs; a few
// more are, so the budget is what bounds them.
func TestTrackBudgetFitsTabsBehindNAT(t *testing.T) {
	tests := []struct {
		tabs    int
		refused bool
	}{{1, false}, {4, false}, {10, false}, {12, true}}
	for _, tc := range tests {
		lim := newUserLimits(trackLimitConfig(Config{}))
		clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		lim.now = func() time.Time { return clock }
		refused := 0
		// Tabs open 100 ms apart, then poll for a minute.
		step := 10 * time.Millisecond
		for tick := time.Duration(0); tick < time.Minute; tick += step {
			clock = clock.Add(step)
			for tab := range tc.tabs {
				start := time.Duration(tab) * 100 * time.Millisecond
				if tick < start || (tick-start)%(500*time.Millisecond) != 0 {
					continue
				}
				if ok, _ := lim.allow(userKey{role: "track", user: "198.51.100.7"}, 0, 0); !ok {
					refused++
				}
			}
		}
		assert.Equal(t, tc.refused, refused > 0, "%d tabs: %d refused", tc.tabs, refused)
	}
}
