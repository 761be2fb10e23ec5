package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// pickupIDs decodes a GET /pickups answer into its order ids.
func (r response) pickupIDs(t testing.TB) []string {
	t.Helper()
	var body pickupsList
	require.NoError(t, json.Unmarshal(r.body, &body), string(r.body))
	require.NotNil(t, body.Pickups, "an empty list is [], not null")
	ids := []string{}
	for _, o := range body.Pickups {
		ids = append(ids, o.ID)
	}
	return ids
}

// TestDriverRoutes: a driver works orders end to end over REST alone (it
// had no routes): lists the pickups, without those still in a nearest
// ring; claims, picks up, carries and delivers one with its PIN; gives
// one back and fails another; each step is announced as the socket
// events' are, and the other driver is refused as on the socket.
func TestDriverRoutes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	d1, d2 := f.token(t, "t1", orders.RoleDriver, "d1"), f.token(t, "t1", orders.RoleDriver, "d2")
	post := func(token, id, action string, body any) response {
		return f.do(t, request{method: http.MethodPost, path: "/api/v1/orders/" + id + "/" + action, token: token, body: body})
	}
	pickups := func(token, query string) response {
		return f.do(t, request{method: http.MethodGet, path: "/api/v1/pickups" + query, token: token})
	}
	withPIN := newOrder("c1")
	withPIN["proof"] = "pin"
	res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: vendor, body: withPIN})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	pinned := res.order(t)
	south := newOrder("c2")
	south["zone"] = "south"
	res = f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: vendor, body: south})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	failing := res.order(t)
	// An order in its nearest ring is for the offered drivers only.
	n := orders.NewOrderInput()
	require.NoError(t, json.Unmarshal(mustJSON(t, newOrder("c1")), &n))
	now := time.Now().UTC()
	ringed, _, err := f.store.CreateOrderWithDeadlines(ctx, "t1", "v1", n, now,
		deadline.Changes{Set: []deadline.Deadline{{Kind: dispatch.KindOffer, DueAt: now.Add(time.Hour)}}})
	require.NoError(t, err)
	plain := f.create(t, "t1", "v1", "c1")

	res = pickups(d1, "")
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, []string{pinned.ID, failing.ID, plain.ID}, res.pickupIDs(t), "not the ringed order %s", ringed.ID)
	assert.Equal(t, []string{pinned.ID, plain.ID}, pickups(d1, "?zone=north").pickupIDs(t))
	assert.Equal(t, []string{failing.ID}, pickups(d1, "?zone=south").pickupIDs(t))
	assert.Equal(t, []string{}, pickups(d1, "?zone=west").pickupIDs(t))
	list, err := f.svc.Pickups(ctx, claims("t1", orders.RoleDriver, "d1"), "")
	require.NoError(t, err)
	assert.Len(t, list, 3, "the socket's pickups:subscribe lists the same")

	// Claim: once, then the repeat is a no-op and another driver is late.
	res = post(d1, pinned.ID, "claim", nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	o := res.order(t)
	assert.Equal(t, orders.Assigned, o.Status)
	assert.Equal(t, "d1", o.DriverID)
	res = post(d1, pinned.ID, "claim", nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, o.Version, res.order(t).Version, "a repeated claim changes nothing")
	res = post(d2, pinned.ID, "claim", nil)
	require.Equal(t, http.StatusConflict, res.status, string(res.body))
	assert.Equal(t, orders.CodeAlreadyClaimed, res.errorCode(t))
	assert.Equal(t, []string{failing.ID, plain.ID}, pickups(d2, "").pickupIDs(t), "a claimed order leaves the pickups")

	// The way to the door, in order; another driver may not touch it.
	steps := []struct {
		token, action string
		body          any
		wantCode      int
		wantErr       orders.Code
		wantStatus    orders.Status
	}{
		{d2, "picked-up", nil, http.StatusForbidden, orders.CodeForbidden, ""},
		{d1, "in-transit", nil, http.StatusConflict, orders.CodeConflict, ""},
		{d1, "picked-up", "ignored", http.StatusOK, "", orders.PickedUp},
		{d1, "picked-up", nil, http.StatusOK, "", orders.PickedUp},
		{d1, "in-transit", nil, http.StatusOK, "", orders.InTransit},
		{d2, "delivered", nil, http.StatusForbidden, orders.CodeForbidden, ""},
		{d1, "delivered", nil, http.StatusBadRequest, orders.CodeInvalidArgument, ""},
		{d1, "delivered", map[string]any{"proof": map[string]any{"pin": "nope"}}, http.StatusBadRequest, orders.CodeInvalidArgument, ""},
		{d1, "delivered", map[string]any{"proof": map[string]any{"pin": 1234}}, http.StatusBadRequest, orders.CodeInvalidArgument, ""},
		{d1, "delivered", map[string]any{"proof": "1234"}, http.StatusBadRequest, orders.CodeInvalidArgument, ""},
		{d1, "delivered", map[string]any{"pin": "1234"}, http.StatusBadRequest, orders.CodeInvalidArgument, ""},
	}
	for _, s := range steps {
		res := post(s.token, pinned.ID, s.action, s.body)
		require.Equal(t, s.wantCode, res.status, "%s %v: %s", s.action, s.body, res.body)
		if s.wantErr != "" {
			assert.Equal(t, s.wantErr, res.errorCode(t), "%s %v", s.action, s.body)
			continue
		}
		assert.Equal(t, s.wantStatus, res.order(t).Status)
	}
	watched, _, err := f.svc.Watch(ctx, claims("t1", orders.RoleCustomer, "c1"), pinned.ID)
	require.NoError(t, err)
	res = post(d1, pinned.ID, "delivered", map[string]any{"proof": map[string]any{"pin": watched.PIN}})
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, orders.Delivered, res.order(t).Status)
	assert.Equal(t, []orders.Status{orders.Ready, orders.Assigned, orders.PickedUp, orders.InTransit, orders.Delivered},
		f.routed(t, pinned.ID), "each step is announced once, refusals and repeats not at all")

	// Given back with a reason, then taken again and failed.
	require.Equal(t, http.StatusOK, post(d1, failing.ID, "claim", nil).status)
	res = post(d2, failing.ID, "unassign", nil)
	require.Equal(t, http.StatusForbidden, res.status, string(res.body))
	res = post(d1, failing.ID, "unassign", map[string]any{"reason": "flat tyre"})
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	o = res.order(t)
	assert.Equal(t, orders.Ready, o.Status)
	assert.Empty(t, o.DriverID)
	assert.Contains(t, pickups(d2, "?zone=south").pickupIDs(t), failing.ID, "a given-back order is up for grabs again")
	require.Equal(t, http.StatusOK, post(d2, failing.ID, "claim", nil).status)
	require.Equal(t, http.StatusOK, post(d2, failing.ID, "picked-up", nil).status)
	for _, body := range []any{nil, map[string]any{}, map[string]any{"reason": "lost"}, map[string]any{"reason": "other", "note": "x"}} {
		res = post(d2, failing.ID, "failed", body)
		require.Equal(t, http.StatusBadRequest, res.status, "%v: %s", body, res.body)
		assert.Equal(t, orders.CodeInvalidArgument, res.errorCode(t))
	}
	res = post(d2, failing.ID, "failed", map[string]any{"reason": "customer_absent"})
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	o = res.order(t)
	assert.Equal(t, orders.Failed, o.Status)
	require.NotNil(t, o.Failure)
	assert.Equal(t, orders.ReasonCustomerAbsent, o.Failure.Reason)
	evs, err := f.svc.Events(ctx, claims("t1", orders.RoleVendor, "v1"), failing.ID)
	require.NoError(t, err)
	require.Len(t, evs, 6)
	assert.Equal(t, "flat tyre", evs[2].Reason)
	assert.Equal(t, "d1", evs[2].FromDriverID)

	// Without a PIN, and without bodies: an unassign and a delivery.
	for _, action := range []string{"claim", "unassign", "claim", "picked-up", "in-transit", "delivered"} {
		res = post(d1, plain.ID, action, nil)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", action, res.body)
	}
	assert.Equal(t, orders.Delivered, res.order(t).Status)

	// Only drivers list pickups; a zone is a name.
	for _, token := range []string{vendor, f.token(t, "t1", orders.RoleCustomer, "c1")} {
		res = pickups(token, "")
		require.Equal(t, http.StatusForbidden, res.status, string(res.body))
		assert.Equal(t, orders.CodeForbidden, res.errorCode(t))
	}
	res = pickups(d1, "?zone=no.such")
	require.Equal(t, http.StatusBadRequest, res.status, string(res.body))
	assert.Equal(t, orders.CodeInvalidArgument, res.errorCode(t))
	res = pickups("", "")
	require.Equal(t, http.StatusUnauthorized, res.status, string(res.body))
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestDriverRoutesRefused: every driver action refuses, before changing
// anything, a missing token, a malformed or unknown id, the roles that may
// not act, (where a body is read) a bad or oversized body, and a step the
// order is not at.
func TestDriverRoutesRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.create(t, "t1", "v1", "c1")
	_, err := f.svc.Act(ctx, claims("t1", orders.RoleDriver, "d1"), o.ID, orders.ActionClaim)
	require.NoError(t, err)
	d1 := f.token(t, "t1", orders.RoleDriver, "d1")
	tooBig := map[string]any{"reason": strings.Repeat("x", MaxBodyBytes)}
	type refusal struct {
		name     string
		token    string
		id       string
		body     any
		wantCode int
		wantErr  orders.Code
	}
	common := []refusal{
		{"no token", "", o.ID, nil, http.StatusUnauthorized, orders.CodeUnauthorized},
		{"malformed id", d1, "x", nil, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"unknown id", d1, orders.NewID(), nil, http.StatusNotFound, orders.CodeNotFound},
		{"another tenant's order", f.token(t, "t2", orders.RoleDriver, "d1"), o.ID, nil, http.StatusNotFound, orders.CodeNotFound},
		{"vendor", f.token(t, "t1", orders.RoleVendor, "v1"), o.ID, nil, http.StatusForbidden, orders.CodeForbidden},
		{"customer", f.token(t, "t1", orders.RoleCustomer, "c1"), o.ID, nil, http.StatusForbidden, orders.CodeForbidden},
	}
	withBody := []refusal{
		{"too large", d1, o.ID, tooBig, http.StatusRequestEntityTooLarge, orders.CodeInvalidArgument},
		{"not json", d1, o.ID, "reason=x", http.StatusBadRequest, orders.CodeInvalidArgument},
		{"array", d1, o.ID, "[]", http.StatusBadRequest, orders.CodeInvalidArgument},
		{"two objects", d1, o.ID, "{} {}", http.StatusBadRequest, orders.CodeInvalidArgument},
		{"unknown field", d1, o.ID, map[string]any{"orderId": o.ID}, http.StatusBadRequest, orders.CodeInvalidArgument},
		{"reason not text", d1, o.ID, map[string]any{"reason": 7}, http.StatusBadRequest, orders.CodeInvalidArgument},
	}
	// failed needs a body, so that its refusals are for other reasons.
	withReason := append([]refusal{}, common...)
	for i := range withReason {
		withReason[i].body = map[string]any{"reason": "other"}
	}
	routes := map[string][]refusal{
		"claim":      common,
		"picked-up":  common,
		"in-transit": common,
		"delivered":  append(append([]refusal{}, common...), withBody[:4]...),
		"failed":     append(withReason, withBody...),
		"unassign":   append(append([]refusal{}, common...), withBody...),
	}
	for action, cases := range routes {
		for _, tt := range cases {
			t.Run(action+"/"+tt.name, func(t *testing.T) {
				res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders/" + tt.id + "/" + action, token: tt.token, body: tt.body})
				require.Equal(t, tt.wantCode, res.status, string(res.body))
				assert.Equal(t, tt.wantErr, res.errorCode(t))
			})
		}
	}
	// Steps out of order are conflicts, on an order the driver holds and
	// on one nobody holds.
	ready := f.create(t, "t1", "v1", "c1")
	for _, tt := range []struct {
		id, action string
		body       any
	}{
		{o.ID, "in-transit", nil},
		{o.ID, "delivered", nil},
		{o.ID, "failed", map[string]any{"reason": "other"}},
		{ready.ID, "picked-up", nil},
		{ready.ID, "in-transit", nil},
		{ready.ID, "delivered", nil},
		{ready.ID, "failed", map[string]any{"reason": "damaged"}},
		{ready.ID, "unassign", nil},
	} {
		res := f.do(t, request{method: http.MethodPost, path: "/api/v1/orders/" + tt.id + "/" + tt.action, token: d1, body: tt.body})
		require.Equal(t, http.StatusConflict, res.status, "%s: %s", tt.action, res.body)
		assert.Equal(t, orders.CodeConflict, res.errorCode(t))
	}
	got, err := f.svc.Get(ctx, claims("t1", orders.RoleVendor, "v1"), o.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Version, "refused actions change nothing")
	assert.Equal(t, []orders.Status{orders.Ready}, f.routed(t, ready.ID))
	assert.Equal(t, []orders.Status{orders.Ready, orders.Assigned}, f.routed(t, o.ID))
}
