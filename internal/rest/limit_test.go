package rest

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// recordingObserver remembers the results REST reports.
type recordingObserver struct{ got []string }

func (o *recordingObserver) EventIn(ns, event string, code orders.Code) {
	o.got = append(o.got, ns+" "+event+" "+string(code))
}

// TestRateLimit: REST has the sockets' per-user limit (it had none: 80
// concurrent creates were all 201): past the burst a user gets 429
// rate_limited with Retry-After, and other users are not affected.
func TestRateLimit(t *testing.T) {
	obs := &recordingObserver{}
	f := newFixtureConfig(t, Config{EventsPerSecond: 1, EventBurst: 3, Observer: obs})
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	list := func(token string) response {
		return f.do(t, request{method: http.MethodGet, path: "/api/v1/orders", token: token})
	}
	create := func(token string) response {
		return f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: token, body: newOrder("c1")})
	}
	first := create(vendor)
	require.Equal(t, http.StatusCreated, first.status)
	id := first.order(t).ID
	for range 2 {
		require.Equal(t, http.StatusOK, list(vendor).status)
	}
	limited := []response{create(vendor), list(vendor)}
	for _, r := range []request{
		{method: http.MethodGet, path: "/api/v1/orders/" + id},
		{method: http.MethodPost, path: "/api/v1/orders/" + id + "/cancel"},
		{method: http.MethodGet, path: "/api/v1/orders/" + id + "/events"},
	} {
		r.token = vendor
		limited = append(limited, f.do(t, r))
	}
	// The drivers' routes share the driver's one budget too.
	driver := f.token(t, "t1", orders.RoleDriver, "d1")
	driverRoutes := []request{
		{method: http.MethodGet, path: "/api/v1/orders?limit=1"},
		{method: http.MethodGet, path: "/api/v1/orders?limit=2"},
		{method: http.MethodGet, path: "/api/v1/orders?limit=3"},
		{method: http.MethodGet, path: "/api/v1/pickups"},
		{method: http.MethodPost, path: "/api/v1/orders/" + id + "/claim"},
		{method: http.MethodPost, path: "/api/v1/orders/" + id + "/picked-up"},
		{method: http.MethodPost, path: "/api/v1/orders/" + id + "/in-transit"},
		{method: http.MethodPost, path: "/api/v1/orders/" + id + "/delivered"},
		{method: http.MethodPost, path: "/api/v1/orders/" + id + "/failed", body: map[string]any{"reason": "other"}},
		{method: http.MethodPost, path: "/api/v1/orders/" + id + "/unassign"},
	}
	for i, r := range driverRoutes {
		r.token = driver
		res := f.do(t, r)
		if i < 3 { // the burst
			require.Equal(t, http.StatusOK, res.status, "%s %s: %s", r.method, r.path, res.body)
			continue
		}
		limited = append(limited, res)
	}
	for _, res := range limited {
		require.Equal(t, http.StatusTooManyRequests, res.status, string(res.body))
		assert.Equal(t, orders.CodeRateLimited, res.errorCode(t))
		retry, err := strconv.Atoi(res.header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After: %q", res.header.Get("Retry-After"))
		assert.Equal(t, 1, retry, "one request back per second")
	}
	// The same user on a fresh token is the same user.
	assert.Equal(t, http.StatusTooManyRequests, list(f.token(t, "t1", orders.RoleVendor, "v1")).status)

	// Others have their own budget: another user, the same name in
	// another role or another tenant.
	for _, token := range []string{
		f.token(t, "t1", orders.RoleVendor, "v2"),
		f.token(t, "t1", orders.RoleCustomer, "v1"),
		f.token(t, "t2", orders.RoleVendor, "v1"),
	} {
		assert.Equal(t, http.StatusOK, list(token).status)
	}
	// A refused request never reaches the handler: only the first
	// create made an order, and the cancel did nothing.
	got, err := f.svc.List(t.Context(), claims("t1", orders.RoleVendor, "v1"), "")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, orders.Ready, got[0].Status)
	assert.Contains(t, obs.got, "rest POST /api/v1/orders rate_limited")
	assert.Contains(t, obs.got, "rest GET /api/v1/orders ")
}

// TestUserLimitsBounded: the limiters of users idle long enough to have
// refilled are dropped (dropping them changes nothing), and the map never
// holds more than its cap.
func TestUserLimitsBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newUserLimits(Config{EventsPerSecond: 10, EventBurst: 20, MaxUsers: 3}.withDefaults())
	l.now = func() time.Time { return now }
	key := func(u string) userKey { return userKey{tenant: "t", role: orders.RoleVendor, user: u} }

	for _, u := range []string{"a", "b", "c"} {
		ok, _ := l.allow(key(u), 0, 0)
		require.True(t, ok)
	}
	ok, retry := l.allow(key("d"), 0, 0)
	assert.False(t, ok, "past the cap a new user waits")
	assert.Positive(t, retry)
	assert.Equal(t, 3, l.size())

	// 2 s at 10/s refill a burst of 20: a, b and c are back to full, so
	// dropping them is exact.
	now = now.Add(2 * time.Second)
	ok, _ = l.allow(key("d"), 0, 0)
	require.True(t, ok)
	assert.Equal(t, 1, l.size())

	// A busy user keeps its limiter and its debt.
	for range 20 {
		l.allow(key("d"), 0, 0)
	}
	ok, retry = l.allow(key("d"), 0, 0)
	assert.False(t, ok)
	assert.Equal(t, 100*time.Millisecond, retry)
}

// TestUserLimitsTenantShape: a tenant's own rate and burst shape its
// users' buckets, and such a bucket is kept until it has refilled at its
// own rate.
func TestUserLimitsTenantShape(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newUserLimits(Config{EventsPerSecond: 10, EventBurst: 20}.withDefaults())
	l.now = func() time.Time { return now }
	slow := userKey{tenant: "slow", role: orders.RoleVendor, user: "v"}
	fast := userKey{tenant: "fast", role: orders.RoleVendor, user: "v"}
	allowed := func(k userKey, ps float64, burst int, n int) int {
		got := 0
		for range n {
			if ok, _ := l.allow(k, ps, burst); ok {
				got++
			}
		}
		return got
	}
	assert.Equal(t, 2, allowed(slow, 1, 2, 10), "the tenant's burst of 2")
	assert.Equal(t, 20, allowed(fast, 0, 0, 30), "the server's burst of 20")
	now = now.Add(time.Second) // the server's buckets refill in 2 s, slow's (2 at 1/s) too
	ok, _ := l.allow(slow, 1, 2)
	assert.True(t, ok, "one token back after a second at 1/s")
	ok, retry := l.allow(slow, 1, 2)
	assert.False(t, ok)
	assert.Equal(t, time.Second, retry, "at its own rate")
}

// TestTenantLimitsOnREST: the middleware takes the caller's tenant's own
// limits.
func TestTenantLimitsOnREST(t *testing.T) {
	f := newFixtureConfig(t, Config{EventsPerSecond: 100, EventBurst: 100, TenantLimits: func(tenant string) (float64, int) {
		if tenant == "tight" {
			return 0.01, 1
		}
		return 0, 0
	}})
	get := func(tenant string) int {
		return f.do(t, request{method: http.MethodGet, path: "/api/v1/orders", token: f.token(t, tenant, orders.RoleVendor, "v1")}).status
	}
	assert.Equal(t, []int{http.StatusOK, http.StatusTooManyRequests}, []int{get("tight"), get("tight")})
	assert.Equal(t, []int{http.StatusOK, http.StatusOK}, []int{get("acme"), get("acme")})
}

// TestUserLimitsFollowATenantChange: a user who never stops long enough
// to be swept still gets its tenant's new limits.
func TestUserLimitsFollowATenantChange(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newUserLimits(Config{EventsPerSecond: 10, EventBurst: 20}.withDefaults())
	l.now = func() time.Time { return now }
	k := userKey{tenant: "t", role: orders.RoleVendor, user: "v"}
	ok, _ := l.allow(k, 0, 0)
	require.True(t, ok)
	got := 0
	for range 10 {
		if ok, _ := l.allow(k, 0.01, 2); ok {
			got++
		}
	}
	assert.Equal(t, 2, got, "the new burst of 2 in force at once (the old bucket had 19 left)")
}
