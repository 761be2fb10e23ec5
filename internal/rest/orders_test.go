package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

func TestCreateOrder(t *testing.T) {
	f := newFixture(t)
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")

	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: vendor, body: newOrder("c1")})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	o := res.order(t)
	assert.True(t, orders.ValidID(o.ID))
	assert.Equal(t, "/api/v1/orders/"+o.ID, res.header.Get("Location"))
	assert.Equal(t, "t1", o.Tenant)
	assert.Equal(t, "v1", o.VendorID)
	assert.Equal(t, "c1", o.CustomerID)
	assert.Equal(t, "north", o.Zone)
	assert.Equal(t, orders.Ready, o.Status)
	assert.Equal(t, 1, o.Version)
	assert.Equal(t, []orders.Item{{Name: "margherita", Qty: 2}}, o.Items)
	assert.Equal(t, []orders.Status{orders.Ready}, f.routed(t, o.ID), "a new order is announced")

	tooBig := newOrder("c1")
	tooBig["store"] = strings.Repeat("x", MaxBodyBytes)
	withField := func(k string, v any) map[string]any {
		n := newOrder("c1")
		n[k] = v
		return n
	}
	tests := []struct {
		name     string
		token    string
		body     any
		header   map[string]string
		wantCode int
		wantErr  orders.Code
	}{
		{"no token", "", newOrder("c1"), nil, http.StatusUnauthorized, orders.CodeUnauthorized},
		{"driver", f.token(t, "t1", orders.RoleDriver, "d1"), newOrder("c1"), nil, http.StatusForbidden, orders.CodeForbidden},
		{"customer", f.token(t, "t1", orders.RoleCustomer, "c1"), newOrder("c1"), nil, http.StatusForbidden, orders.CodeForbidden},
		{"empty body", vendor, "", nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"not json", vendor, "store=x", nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"truncated json", vendor, `{"store":"x"`, nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"array", vendor, `[]`, nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"null", vendor, `null`, nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"two objects", vendor, `{"store":"x"} {}`, nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"unknown field", vendor, withField("tip", 5), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"misspelt key", vendor, withField("idempotency_key", "k"), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"wrong type", vendor, withField("items", "many"), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"invalid store", vendor, withField("store", " "), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"invalid customer", vendor, withField("customerId", "a.b"), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"bad coordinates", vendor, withField("pickup", map[string]any{"address": "x", "lat": 91, "lng": 0}), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"pickup lat missing", vendor, withField("pickup", map[string]any{"address": "x", "lng": 0}), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"dropoff lng null", vendor, withField("dropoff", map[string]any{"address": "x", "lat": 1, "lng": nil}), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"dropoff null", vendor, withField("dropoff", nil), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"lat as a string", vendor, withField("pickup", map[string]any{"address": "x", "lat": "1", "lng": 0}), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"NUL in store", vendor, withField("store", "a\x00b"), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"NUL in address", vendor, withField("pickup", map[string]any{"address": "1\x00", "lat": 1, "lng": 0}), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"NUL in item name", vendor, withField("items", []map[string]any{{"name": "\x00"}}), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"NUL in idempotency key", vendor, withField("idempotencyKey", "k\x00"), nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"long idempotency header", vendor, newOrder("c1"), map[string]string{HeaderIdempotencyKey: strings.Repeat("k", 129)}, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"keys differ", vendor, withField("idempotencyKey", "a"), map[string]string{HeaderIdempotencyKey: "b"}, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"too large", vendor, tooBig, nil, http.StatusRequestEntityTooLarge, orders.CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: tt.token, body: tt.body, header: tt.header})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			assert.Equal(t, tt.wantErr, res.errorCode(t))
		})
	}
	list, err := f.svc.List(context.Background(), claims("t1", orders.RoleVendor, "v1"), "")
	require.NoError(t, err)
	assert.Len(t, list, 1, "refused requests create nothing")
}

// TestCreateOrderItemQtyDefault: an item without qty is one of it (v2).
func TestCreateOrderItemQtyDefault(t *testing.T) {
	f := newFixture(t)
	n := newOrder("c1")
	n["items"] = []map[string]any{{"name": "margherita"}, {"name": "tiramisù", "qty": 3}}
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: f.token(t, "t1", orders.RoleVendor, "v1"), body: n})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	assert.Equal(t, []orders.Item{{Name: "margherita", Qty: 1}, {Name: "tiramisù", Qty: 3}}, res.order(t).Items)
}

func TestCreateOrderIdempotent(t *testing.T) {
	tests := []struct {
		name          string
		first, second request
	}{
		{
			name:   "body key",
			first:  request{body: withKey(newOrder("c1"), "k1")},
			second: request{body: withKey(newOrder("c2"), "k1")},
		},
		{
			name:   "header key",
			first:  request{body: newOrder("c1"), header: map[string]string{HeaderIdempotencyKey: "k1"}},
			second: request{body: newOrder("c1"), header: map[string]string{HeaderIdempotencyKey: "k1"}},
		},
		{
			name:   "header then body",
			first:  request{body: newOrder("c1"), header: map[string]string{HeaderIdempotencyKey: "k1"}},
			second: request{body: withKey(newOrder("c1"), "k1")},
		},
		{
			name:   "both equal",
			first:  request{body: withKey(newOrder("c1"), "k1"), header: map[string]string{HeaderIdempotencyKey: "k1"}},
			second: request{body: withKey(newOrder("c1"), "k1"), header: map[string]string{HeaderIdempotencyKey: "k1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			vendor := f.token(t, "t1", orders.RoleVendor, "v1")
			post := func(r request) response {
				r.method, r.path, r.token = http.MethodPost, "/api/v1/orders", vendor
				return f.do(t, r)
			}
			first := post(tt.first)
			require.Equal(t, http.StatusCreated, first.status, string(first.body))
			second := post(tt.second)
			require.Equal(t, http.StatusOK, second.status, string(second.body))
			assert.Empty(t, second.header.Get("Location"))
			assert.Equal(t, first.order(t), second.order(t), "the same key returns the same order")
			assert.Len(t, f.routed(t, first.order(t).ID), 1, "a replay is not announced again")

			// The key is the vendor's own: another vendor's same key is a new order.
			other := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders",
				token: f.token(t, "t1", orders.RoleVendor, "v2"), body: withKey(newOrder("c1"), "k1")})
			require.Equal(t, http.StatusCreated, other.status)
			assert.NotEqual(t, first.order(t).ID, other.order(t).ID)

			// A replay after a transition still returns the order, as it is now.
			_, err := f.svc.Act(context.Background(), claims("t1", orders.RoleVendor, "v1"), first.order(t).ID, orders.ActionCancel)
			require.NoError(t, err)
			again := post(tt.second)
			require.Equal(t, http.StatusOK, again.status)
			assert.Equal(t, orders.Cancelled, again.order(t).Status)
		})
	}
}

func withKey(n map[string]any, key string) map[string]any {
	n["idempotencyKey"] = key
	return n
}

func TestGetOrder(t *testing.T) {
	f := newFixture(t)
	ready := f.create(t, "t1", "v1", "c1")
	claimed := f.create(t, "t1", "v1", "c1")
	_, err := f.svc.Act(context.Background(), claims("t1", orders.RoleDriver, "d1"), claimed.ID, orders.ActionClaim)
	require.NoError(t, err)
	foreign := f.create(t, "t2", "v1", "c1") // same user ids, another tenant

	tests := []struct {
		name     string
		token    string
		id       string
		wantCode int
		wantErr  orders.Code
	}{
		{"own vendor", f.token(t, "t1", orders.RoleVendor, "v1"), ready.ID, http.StatusOK, ""},
		{"own customer", f.token(t, "t1", orders.RoleCustomer, "c1"), ready.ID, http.StatusOK, ""},
		{"driver, ready order", f.token(t, "t1", orders.RoleDriver, "d2"), ready.ID, http.StatusOK, ""},
		{"assigned driver", f.token(t, "t1", orders.RoleDriver, "d1"), claimed.ID, http.StatusOK, ""},
		{"other driver", f.token(t, "t1", orders.RoleDriver, "d2"), claimed.ID, http.StatusForbidden, orders.CodeForbidden},
		{"other customer", f.token(t, "t1", orders.RoleCustomer, "c2"), ready.ID, http.StatusForbidden, orders.CodeForbidden},
		{"other vendor", f.token(t, "t1", orders.RoleVendor, "v2"), ready.ID, http.StatusNotFound, orders.CodeNotFound},
		{"other tenant", f.token(t, "t1", orders.RoleVendor, "v1"), foreign.ID, http.StatusNotFound, orders.CodeNotFound},
		{"other tenant, customer", f.token(t, "t2", orders.RoleCustomer, "c1"), ready.ID, http.StatusNotFound, orders.CodeNotFound},
		{"unknown id", f.token(t, "t1", orders.RoleVendor, "v1"), orders.NewID(), http.StatusNotFound, orders.CodeNotFound},
		{"malformed id", f.token(t, "t1", orders.RoleVendor, "v1"), "not-an-id", http.StatusBadRequest, orders.CodeInvalidArgument},
		{"no token", "", ready.ID, http.StatusUnauthorized, orders.CodeUnauthorized},
		{"expired token", expiredToken(t, f, "t1", orders.RoleVendor, "v1"), ready.ID, http.StatusUnauthorized, orders.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders/" + tt.id, token: tt.token})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			if tt.wantErr != "" {
				assert.Equal(t, tt.wantErr, res.errorCode(t))
				return
			}
			assert.Equal(t, tt.id, res.order(t).ID)
		})
	}
}

func TestListOrders(t *testing.T) {
	f := newFixture(t)
	a := f.create(t, "t1", "v1", "c1")
	b := f.create(t, "t1", "v1", "c2")
	c := f.create(t, "t1", "v2", "c1")
	f.create(t, "t2", "v1", "c1")
	_, err := f.svc.Act(context.Background(), claims("t1", orders.RoleDriver, "d1"), b.ID, orders.ActionClaim)
	require.NoError(t, err)

	tests := []struct {
		name     string
		token    string
		query    string
		wantCode int
		wantIDs  []string
	}{
		{"vendor", f.token(t, "t1", orders.RoleVendor, "v1"), "", http.StatusOK, []string{a.ID, b.ID}},
		{"vendor ready", f.token(t, "t1", orders.RoleVendor, "v1"), "?status=ready", http.StatusOK, []string{a.ID}},
		{"vendor assigned", f.token(t, "t1", orders.RoleVendor, "v1"), "?status=assigned", http.StatusOK, []string{b.ID}},
		{"vendor delivered", f.token(t, "t1", orders.RoleVendor, "v1"), "?status=delivered", http.StatusOK, []string{}},
		{"empty status", f.token(t, "t1", orders.RoleVendor, "v1"), "?status=", http.StatusOK, []string{a.ID, b.ID}},
		{"customer", f.token(t, "t1", orders.RoleCustomer, "c1"), "", http.StatusOK, []string{a.ID, c.ID}},
		{"driver", f.token(t, "t1", orders.RoleDriver, "d1"), "", http.StatusOK, []string{b.ID}},
		{"other tenant's vendor", f.token(t, "t3", orders.RoleVendor, "v1"), "", http.StatusOK, []string{}},
		{"unknown status", f.token(t, "t1", orders.RoleVendor, "v1"), "?status=lost", http.StatusBadRequest, nil},
		{"no token", "", "", http.StatusUnauthorized, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders" + tt.query, token: tt.token})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			if tt.wantIDs == nil {
				res.errorCode(t)
				return
			}
			var body struct {
				Orders []orders.Order `json:"orders"`
			}
			require.NoError(t, json.Unmarshal(res.body, &body))
			require.NotNil(t, body.Orders, "an empty list is [], not null")
			ids := []string{}
			for _, o := range body.Orders {
				ids = append(ids, o.ID)
			}
			assert.Equal(t, tt.wantIDs, ids)
		})
	}
}

func TestCancelOrder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	ready := f.create(t, "t1", "v1", "c1")
	assigned := f.create(t, "t1", "v1", "c1")
	_, err := f.svc.Act(ctx, claims("t1", orders.RoleDriver, "d1"), assigned.ID, orders.ActionClaim)
	require.NoError(t, err)
	pickedUp := f.create(t, "t1", "v1", "c1")
	_, err = f.svc.Act(ctx, claims("t1", orders.RoleDriver, "d1"), pickedUp.ID, orders.ActionClaim)
	require.NoError(t, err)
	_, err = f.svc.Act(ctx, claims("t1", orders.RoleDriver, "d1"), pickedUp.ID, orders.ActionPickUp)
	require.NoError(t, err)
	foreign := f.create(t, "t2", "v1", "c1")

	tests := []struct {
		name        string
		token       string
		id          string
		wantCode    int
		wantErr     orders.Code
		wantVersion int
	}{
		{"driver", f.token(t, "t1", orders.RoleDriver, "d1"), assigned.ID, http.StatusForbidden, orders.CodeForbidden, 0},
		{"customer", f.token(t, "t1", orders.RoleCustomer, "c1"), ready.ID, http.StatusForbidden, orders.CodeForbidden, 0},
		{"other vendor", f.token(t, "t1", orders.RoleVendor, "v2"), ready.ID, http.StatusNotFound, orders.CodeNotFound, 0},
		{"other tenant", vendor, foreign.ID, http.StatusNotFound, orders.CodeNotFound, 0},
		{"unknown id", vendor, orders.NewID(), http.StatusNotFound, orders.CodeNotFound, 0},
		{"malformed id", vendor, "x", http.StatusBadRequest, orders.CodeInvalidArgument, 0},
		{"picked up", vendor, pickedUp.ID, http.StatusConflict, orders.CodeConflict, 0},
		{"no token", "", ready.ID, http.StatusUnauthorized, orders.CodeUnauthorized, 0},
		{"ready", vendor, ready.ID, http.StatusOK, "", 2},
		{"ready again", vendor, ready.ID, http.StatusOK, "", 2},
		{"assigned", vendor, assigned.ID, http.StatusOK, "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders/" + tt.id + "/cancel", token: tt.token})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			if tt.wantErr != "" {
				assert.Equal(t, tt.wantErr, res.errorCode(t))
				return
			}
			o := res.order(t)
			assert.Equal(t, orders.Cancelled, o.Status)
			assert.Equal(t, tt.wantVersion, o.Version)
		})
	}
	assert.Equal(t, []orders.Status{orders.Ready, orders.Cancelled}, f.routed(t, ready.ID),
		"one cancel is announced, the repeat is not")
	assert.Equal(t, []orders.Status{orders.Ready, orders.Assigned, orders.Cancelled}, f.routed(t, assigned.ID))
	got, err := f.svc.Get(ctx, claims("t1", orders.RoleVendor, "v1"), pickedUp.ID)
	require.NoError(t, err)
	assert.Equal(t, orders.PickedUp, got.Status, "refused cancels change nothing")
}

func TestOrderEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.create(t, "t1", "v1", "c1")
	_, err := f.svc.Act(ctx, claims("t1", orders.RoleDriver, "d1"), o.ID, orders.ActionClaim)
	require.NoError(t, err)
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders/" + o.ID + "/cancel",
		token: f.token(t, "t1", orders.RoleVendor, "v1")})
	require.Equal(t, http.StatusOK, res.status)
	foreign := f.create(t, "t2", "v1", "c1")

	tests := []struct {
		name     string
		token    string
		id       string
		wantCode int
		wantErr  orders.Code
	}{
		{"vendor", f.token(t, "t1", orders.RoleVendor, "v1"), o.ID, http.StatusOK, ""},
		{"customer", f.token(t, "t1", orders.RoleCustomer, "c1"), o.ID, http.StatusOK, ""},
		{"driver who had it", f.token(t, "t1", orders.RoleDriver, "d1"), o.ID, http.StatusOK, ""},
		{"other customer", f.token(t, "t1", orders.RoleCustomer, "c2"), o.ID, http.StatusForbidden, orders.CodeForbidden},
		{"other driver", f.token(t, "t1", orders.RoleDriver, "d2"), o.ID, http.StatusForbidden, orders.CodeForbidden},
		{"other vendor", f.token(t, "t1", orders.RoleVendor, "v2"), o.ID, http.StatusNotFound, orders.CodeNotFound},
		{"other tenant", f.token(t, "t1", orders.RoleVendor, "v1"), foreign.ID, http.StatusNotFound, orders.CodeNotFound},
		{"malformed id", f.token(t, "t1", orders.RoleVendor, "v1"), "1", http.StatusBadRequest, orders.CodeInvalidArgument},
		{"expired token", expiredToken(t, f, "t1", orders.RoleVendor, "v1"), o.ID, http.StatusUnauthorized, orders.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders/" + tt.id + "/events", token: tt.token})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			if tt.wantErr != "" {
				assert.Equal(t, tt.wantErr, res.errorCode(t))
				return
			}
			var body struct {
				Events []orders.Event `json:"events"`
			}
			require.NoError(t, json.Unmarshal(res.body, &body))
			require.Len(t, body.Events, 3)
			want := []struct {
				status orders.Status
				actor  orders.Actor
				driver string
			}{
				{orders.Ready, orders.Actor{Role: orders.RoleVendor, ID: "v1"}, ""},
				{orders.Assigned, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, "d1"},
				{orders.Cancelled, orders.Actor{Role: orders.RoleVendor, ID: "v1"}, "d1"},
			}
			for i, ev := range body.Events {
				assert.Equal(t, o.ID, ev.OrderID)
				assert.Equal(t, want[i].status, ev.Status)
				assert.Equal(t, want[i].actor, ev.Actor)
				assert.Equal(t, want[i].driver, ev.DriverID)
				assert.Equal(t, i+1, ev.Version)
				assert.True(t, orders.ValidID(ev.ID))
				assert.False(t, ev.At.IsZero())
			}
		})
	}
}
