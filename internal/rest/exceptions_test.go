package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestFailedOrderInREST: v2's unhappy path as REST shows it, every answer
// checked against api/openapi.yaml: an unassigned, reassigned and failed
// order carries failure { reason, at }, GET /orders?status=failed lists
// it, and its log has the give-back's fromDriverId and the reasons.
func TestFailedOrderInREST(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.create(t, "t1", "v1", "c1")
	d1, d2 := claims("t1", orders.RoleDriver, "d1"), claims("t1", orders.RoleDriver, "d2")
	_, err := f.svc.Act(ctx, d1, o.ID, orders.ActionClaim)
	require.NoError(t, err)
	_, err = f.svc.Perform(ctx, d1, o.ID, orders.Request{Action: orders.ActionUnassign, Reason: "flat tyre"})
	require.NoError(t, err)
	op := claims("t1", orders.RoleDispatcher, "op1")
	_, err = f.svc.Perform(ctx, op, o.ID, orders.Request{Action: orders.ActionAssign, DriverID: "d2"})
	require.NoError(t, err)
	_, err = f.svc.Act(ctx, d2, o.ID, orders.ActionPickUp)
	require.NoError(t, err)
	_, err = f.svc.Perform(ctx, d2, o.ID, orders.Request{Action: orders.ActionFail, Reason: string(orders.ReasonCustomerAbsent)})
	require.NoError(t, err)
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")

	res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders/" + o.ID, token: vendor})
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	got := res.order(t)
	assert.Equal(t, orders.Failed, got.Status)
	assert.Equal(t, "d2", got.DriverID)
	require.NotNil(t, got.Failure)
	assert.Equal(t, orders.ReasonCustomerAbsent, got.Failure.Reason)
	assert.False(t, got.Failure.At.IsZero())
	assert.Equal(t, orders.StrategyBroadcast, got.Dispatch.Strategy)

	driver := f.token(t, "t1", orders.RoleDriver, "d2")
	for _, tok := range []string{vendor, f.token(t, "t1", orders.RoleCustomer, "c1"), driver} {
		res = f.do(t, request{method: http.MethodGet, path: "/api/v1/orders?status=failed", token: tok})
		require.Equal(t, http.StatusOK, res.status, string(res.body))
		var list ordersList
		require.NoError(t, json.Unmarshal(res.body, &list))
		require.Len(t, list.Orders, 1, string(res.body))
		want := got
		if tok == driver {
			want.TrackingURL = "" // drivers are not shown the tracking link
		}
		assert.Equal(t, want, list.Orders[0])
	}

	res = f.do(t, request{method: http.MethodGet, path: "/api/v1/orders/" + o.ID + "/events", token: vendor})
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	var log eventsList
	require.NoError(t, json.Unmarshal(res.body, &log))
	type entry struct {
		status       orders.Status
		actor        orders.Role
		fromDriverID string
		reason       string
	}
	var entries []entry
	for _, ev := range log.Events {
		entries = append(entries, entry{ev.Status, ev.Actor.Role, ev.FromDriverID, ev.Reason})
	}
	assert.Equal(t, []entry{
		{orders.Ready, orders.RoleVendor, "", ""},
		{orders.Assigned, orders.RoleDriver, "", ""},
		{orders.Ready, orders.RoleDriver, "d1", "flat tyre"},
		{orders.Assigned, orders.RoleDispatcher, "", ""},
		{orders.PickedUp, orders.RoleDriver, "", ""},
		{orders.Failed, orders.RoleDriver, "", "customer_absent"},
	}, entries)
}
