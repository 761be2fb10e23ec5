package rest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestCustomerOwnOrdersOnly: a customer reads and lists its own orders,
// pages included, and nothing else: not another customer's order (in its
// tenant or another), not the pickups, and no action on any order.
func TestCustomerOwnOrdersOnly(t *testing.T) {
	f := newFixture(t)
	mine := []string{f.create(t, "t1", "v1", "c1").ID, f.create(t, "t1", "v2", "c1").ID}
	theirs := f.create(t, "t1", "v1", "c2")
	f.create(t, "t2", "v1", "c1") // the same name in another tenant
	mine = append(mine, f.create(t, "t1", "v1", "c1").ID)
	c1 := f.token(t, "t1", orders.RoleCustomer, "c1")

	for _, id := range mine {
		res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders/" + id, token: c1})
		require.Equal(t, http.StatusOK, res.status, string(res.body))
		assert.Equal(t, "c1", res.order(t).CustomerID)
	}
	ids, sizes := pagesOf(t, f, c1, url.Values{"limit": {"2"}}, nil)
	assert.Equal(t, mine, ids, "its own orders, of every vendor, and only those")
	assert.Equal(t, []int{2, 1}, sizes)

	tests := []struct {
		name, method, path string
		wantCode           int
	}{
		{"another's order", http.MethodGet, "/api/v1/orders/" + theirs.ID, http.StatusForbidden},
		{"another's order's log", http.MethodGet, "/api/v1/orders/" + theirs.ID + "/events", http.StatusForbidden},
		{"pickups", http.MethodGet, "/api/v1/pickups", http.StatusForbidden},
		{"create", http.MethodPost, "/api/v1/orders", http.StatusForbidden},
		{"cancel its own", http.MethodPost, "/api/v1/orders/" + mine[0] + "/cancel", http.StatusForbidden},
		{"claim its own", http.MethodPost, "/api/v1/orders/" + mine[0] + "/claim", http.StatusForbidden},
		{"unassign its own", http.MethodPost, "/api/v1/orders/" + mine[0] + "/unassign", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.path == "/api/v1/orders" {
				body = newOrder("c1")
			}
			res := f.do(t, request{method: tt.method, path: tt.path, token: c1, body: body})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			assert.Equal(t, orders.CodeForbidden, res.errorCode(t))
		})
	}
}
