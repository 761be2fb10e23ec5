package rest

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestPINNeverInREST: an order created with proof "pin" keeps its PIN out
// of every REST answer, the customer's own included (the PIN is shown in
// order:watch only); dispatch and proof are accepted and returned.
func TestPINNeverInREST(t *testing.T) {
	f := newFixture(t)
	n := newOrder("c1")
	n["proof"] = "pin"
	n["dispatch"] = map[string]any{"strategy": "auto"}
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: vendor, body: n})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	o := res.order(t)
	assert.Equal(t, orders.ProofPIN, o.Proof)
	assert.Equal(t, orders.StrategyAuto, o.Dispatch.Strategy)

	watched, _, err := f.svc.Watch(context.Background(), claims("t1", orders.RoleCustomer, "c1"), o.ID)
	require.NoError(t, err)
	require.Regexp(t, `^[0-9]{4}$`, watched.PIN)
	bodies := []string{string(res.body)}
	for _, tok := range []string{vendor, f.token(t, "t1", orders.RoleCustomer, "c1"), f.token(t, "t1", orders.RoleDriver, "d1")} {
		for _, path := range []string{"/api/v1/orders/" + o.ID, "/api/v1/orders/" + o.ID + "/events", "/api/v1/orders"} {
			r := f.do(t, request{method: http.MethodGet, path: path, token: tok})
			require.Equal(t, http.StatusOK, r.status, "%s %s", path, r.body)
			bodies = append(bodies, string(r.body))
		}
	}
	for _, b := range bodies {
		assert.NotContains(t, b, `"`+watched.PIN+`"`)
		assert.NotContains(t, b, `"pin":`)
	}

	bad := newOrder("c1")
	bad["dispatch"] = map[string]any{"strategy": "random"}
	res = f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: vendor, body: bad})
	require.Equal(t, http.StatusBadRequest, res.status, string(res.body))
	assert.Equal(t, orders.CodeInvalidArgument, res.errorCode(t))
}
