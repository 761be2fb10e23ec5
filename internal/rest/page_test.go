package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// unlimited lifts the per-user rate limit for tests that page a lot.
var unlimited = Config{EventsPerSecond: 1e6, EventBurst: 1e6}

// pageBody decodes a GET /orders answer.
func (r response) page(t testing.TB) ordersList {
	t.Helper()
	var body ordersList
	require.NoError(t, json.Unmarshal(r.body, &body), string(r.body))
	require.NotNil(t, body.Orders, "an empty list is [], not null")
	return body
}

// TestListOrdersPages: GET /orders over 1,000 of a vendor's orders (among
// other vendors' and tenants') returns each exactly once, in creation
// order, for several page sizes, the default included; an order created
// while paging comes on the last page. It had no pagination: limit and
// cursor were ignored and the first 100 orders came back. On SQLite, and
// on PostgreSQL when DISPATCH_TEST_DATABASE_URL is set.
func TestListOrdersPages(t *testing.T) {
	backends := map[string]func(t *testing.T) store.Config{
		"sqlite": func(t *testing.T) store.Config { return store.Config{DataDir: t.TempDir()} },
	}
	if base := os.Getenv("DISPATCH_TEST_DATABASE_URL"); base != "" {
		backends["postgres"] = func(t *testing.T) store.Config {
			return store.Config{DatabaseURL: testproc.FreshSchema(t, base, "rest_pages")}
		}
	}
	for name, sc := range backends {
		t.Run(name, func(t *testing.T) { testListOrdersPages(t, newFixtureOn(t, unlimited, sc(t))) })
	}
}

func testListOrdersPages(t *testing.T, f *fixture) {
	ctx := context.Background()
	create := func(c orders.NewOrder, vendor string) orders.Order {
		o, _, err := f.svc.CreateOrder(ctx, claims("t1", orders.RoleVendor, vendor), c)
		require.NoError(t, err)
		return o
	}
	n := orders.NewOrder{Store: "Pizza Nord", CustomerID: "c1",
		Pickup:  orders.Place{Address: "1 Main St", Lat: 52.52, Lng: 13.40},
		Dropoff: orders.Place{Address: "9 Side St", Lat: 52.50, Lng: 13.42}}
	var want, assigned []string
	for i := range 1000 {
		o := create(n, "v1")
		want = append(want, o.ID)
		if i%5 == 0 {
			create(n, "v2")
			_, _, err := f.svc.CreateOrder(ctx, claims("t2", orders.RoleVendor, "v1"), n)
			require.NoError(t, err)
		}
		if i%7 == 0 {
			_, err := f.svc.Act(ctx, claims("t1", orders.RoleDriver, "d1"), o.ID, orders.ActionClaim)
			require.NoError(t, err)
			assigned = append(assigned, o.ID)
		}
	}
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	pages := func(query url.Values, during func()) (ids []string, sizes []int) {
		return pagesOf(t, f, vendor, query, during)
	}
	ids, sizes := pages(url.Values{}, nil)
	assert.Equal(t, want, ids, "the default page size")
	assert.Len(t, sizes, 20)
	assert.Equal(t, 50, sizes[0])
	for _, limit := range []int{7, 333, 500} {
		ids, sizes := pages(url.Values{"limit": {strconv.Itoa(limit)}}, nil)
		assert.Equal(t, want, ids, "limit %d", limit)
		assert.Equal(t, limit, sizes[0])
		assert.Positive(t, sizes[len(sizes)-1], "a full last page has no cursor after it: no empty page")
	}
	ids, _ = pages(url.Values{"limit": {"30"}, "status": {"assigned"}}, nil)
	assert.Equal(t, assigned, ids, "the status filter holds on every page")

	var late orders.Order
	ids, _ = pages(url.Values{"limit": {"400"}}, func() { late = create(n, "v1") })
	assert.Equal(t, append(want, late.ID), ids, "an order created while paging comes last, once")

	// A customer's orders page too: c1 has all of both vendors' orders.
	ids, _ = pagesOf(t, f, f.token(t, "t1", orders.RoleCustomer, "c1"), url.Values{"limit": {"500"}}, nil)
	assert.Len(t, ids, 1001+200)
	assert.Subset(t, ids, want)
}

// pagesOf lists query as token to the end, page after page; during runs
// once, after the first page.
func pagesOf(t *testing.T, f *fixture, token string, query url.Values, during func()) (ids []string, sizes []int) {
	t.Helper()
	for range 2000 { // bounds a loop that would never end
		res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders?" + query.Encode(), token: token})
		require.Equal(t, http.StatusOK, res.status, string(res.body))
		body := res.page(t)
		for _, o := range body.Orders {
			ids = append(ids, o.ID)
		}
		sizes = append(sizes, len(body.Orders))
		if during != nil {
			during()
			during = nil
		}
		if body.NextCursor == "" {
			return ids, sizes
		}
		query.Set("cursor", body.NextCursor)
	}
	t.Fatal("pagination does not end")
	return nil, nil
}

// TestListOrdersBadPage: a limit out of 1-500 or not an integer, and a
// cursor this API did not give out, are 400 invalid_argument, not a
// silent default.
func TestListOrdersBadPage(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.create(t, "t1", "v1", "c1")
	}
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	first := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders?limit=1", token: vendor})
	require.Equal(t, http.StatusOK, first.status, string(first.body))
	cursor := first.page(t).NextCursor
	require.NotEmpty(t, cursor)
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name     string
		query    string
		wantCode int
	}{
		{"limit 0", "limit=0", http.StatusBadRequest},
		{"negative limit", "limit=-1", http.StatusBadRequest},
		{"limit 501", "limit=501", http.StatusBadRequest},
		{"limit not a number", "limit=ten", http.StatusBadRequest},
		{"fractional limit", "limit=1.5", http.StatusBadRequest},
		{"huge limit", "limit=99999999999999999999", http.StatusBadRequest},
		{"cursor not base64", "cursor=%21%21", http.StatusBadRequest},
		{"cursor not an id", "cursor=" + b64([]byte("hello")), http.StatusBadRequest},
		{"cursor with a character changed", "cursor=" + cursor[:len(cursor)-2] + "AA", http.StatusBadRequest},
		{"cursor cut short", "cursor=" + cursor[:10], http.StatusBadRequest},
		{"cursor in standard base64 with padding", "cursor=" + url.QueryEscape(cursor+"=="), http.StatusBadRequest},
		{"limit 500", "limit=500", http.StatusOK},
		{"empty limit", "limit=", http.StatusBadRequest},
		{"empty cursor: the first page", "limit=1&cursor=", http.StatusOK},
		{"the cursor given", "limit=1&cursor=" + cursor, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders?" + tt.query, token: vendor})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			if tt.wantCode != http.StatusOK {
				assert.Equal(t, orders.CodeInvalidArgument, res.errorCode(t))
			}
		})
	}
}
