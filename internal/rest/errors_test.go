package rest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dispatchd/dispatchd/internal/orders"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		give       error
		wantStatus int
		wantCode   orders.Code
		wantMsg    string
	}{
		{"invalid argument", orders.Errorf(orders.CodeInvalidArgument, "bad"), http.StatusBadRequest, orders.CodeInvalidArgument, "bad"},
		{"unauthorized", orders.Errorf(orders.CodeUnauthorized, "who"), http.StatusUnauthorized, orders.CodeUnauthorized, "who"},
		{"forbidden", orders.ErrForbidden, http.StatusForbidden, orders.CodeForbidden, orders.ErrForbidden.Message},
		{"not found", orders.ErrNotFound, http.StatusNotFound, orders.CodeNotFound, orders.ErrNotFound.Message},
		{"conflict", orders.ErrConflict, http.StatusConflict, orders.CodeConflict, orders.ErrConflict.Message},
		{"already claimed", orders.ErrAlreadyClaimed, http.StatusConflict, orders.CodeAlreadyClaimed, orders.ErrAlreadyClaimed.Message},
		{"rate limited", orders.Errorf(orders.CodeRateLimited, "slow"), http.StatusTooManyRequests, orders.CodeRateLimited, "slow"},
		{"internal code", orders.Errorf(orders.CodeInternal, "x"), http.StatusInternalServerError, orders.CodeInternal, "x"},
		{"wrapped", errors.Join(errors.New("ctx"), orders.ErrNotFound), http.StatusNotFound, orders.CodeNotFound, orders.ErrNotFound.Message},
		{"plain error", errors.New("pq: password for 10.0.0.1 wrong"), http.StatusInternalServerError, orders.CodeInternal, "internal error"},
		{"echo 404", echo.ErrNotFound, http.StatusNotFound, orders.CodeNotFound, "no such route"},
		{"echo 405", echo.ErrMethodNotAllowed, http.StatusMethodNotAllowed, orders.CodeInvalidArgument, "method not allowed on this route"},
		{"echo 413", echo.ErrStatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, orders.CodeInvalidArgument, "request body is larger than 64 KiB"},
		{"echo 500", echo.NewHTTPError(http.StatusInternalServerError, "secret detail"), http.StatusInternalServerError, orders.CodeInternal, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, msg := classify(tt.give)
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.wantCode, code)
			assert.Equal(t, tt.wantMsg, msg)
		})
	}
}

func TestUnknownRoutes(t *testing.T) {
	f := newFixture(t)
	token := f.token(t, "t1", orders.RoleVendor, "v1")
	tests := []struct {
		name     string
		method   string
		path     string
		token    string
		wantCode int
		wantErr  orders.Code
	}{
		{"unknown path", http.MethodGet, "/api/v1/drivers", token, http.StatusNotFound, orders.CodeNotFound},
		{"group root", http.MethodGet, "/api/v1", token, http.StatusNotFound, orders.CodeNotFound},
		{"too deep", http.MethodGet, "/api/v1/orders/x/events/y", token, http.StatusNotFound, orders.CodeNotFound},
		{"unknown path, no token", http.MethodGet, "/api/v1/drivers", "", http.StatusUnauthorized, orders.CodeUnauthorized},
		{"wrong method", http.MethodDelete, "/api/v1/orders/" + orders.NewID(), token, http.StatusNotFound, orders.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, request{method: tt.method, path: tt.path, token: tt.token})
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			assert.Equal(t, tt.wantErr, res.errorCode(t))
		})
	}
}

// TestInternalErrors breaks the store under every route: the client gets
// a bare "internal", the log gets the cause, and never the token.
func TestRequestIDIsKeptOrMade(t *testing.T) {
	f := newFixture(t)
	token := f.token(t, "t1", orders.RoleVendor, "v1")
	res := f.do(t, request{method: http.MethodGet, path: "/api/v1/orders", token: token, header: map[string]string{echo.HeaderXRequestID: "trace-42"}})
	assert.Equal(t, "trace-42", res.header.Get(echo.HeaderXRequestID))
	for _, odd := range []string{strings.Repeat("x", 65), "a b", "id\x00", "\u00e9t\u00e9"} {
		res = f.do(t, request{method: http.MethodGet, path: "/api/v1/orders", token: token, header: map[string]string{echo.HeaderXRequestID: odd}})
		assert.True(t, orders.ValidID(res.header.Get(echo.HeaderXRequestID)), "%q is replaced", odd)
	}
	res = f.do(t, request{method: http.MethodGet, path: "/api/v1/orders"})
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.True(t, orders.ValidID(res.header.Get(echo.HeaderXRequestID)), "errors carry one too")
}

func TestInternalErrors(t *testing.T) {
	f := newFixture(t)
	o := f.create(t, "t1", "v1", "c1")
	core, logs := observer.New(zap.DebugLevel)
	f.e = echo.New()
	Register(f.e.Group("/api/v1"), Config{}, f.svc, mustVerifier(t, f), zap.New(core))
	require.NoError(t, f.store.Close())

	token := f.token(t, "t1", orders.RoleVendor, "v1")
	driver := f.token(t, "t1", orders.RoleDriver, "d1")
	tests := []struct {
		method, path string
		token        string
		body         any
	}{
		{http.MethodPost, "/api/v1/orders", token, newOrder("c1")},
		{http.MethodGet, "/api/v1/orders", token, nil},
		{http.MethodGet, "/api/v1/orders/" + o.ID, token, nil},
		{http.MethodPost, "/api/v1/orders/" + o.ID + "/cancel", token, nil},
		{http.MethodGet, "/api/v1/orders/" + o.ID + "/events", token, nil},
		{http.MethodGet, "/api/v1/orders?limit=10&cursor=" + cursorAfter(o.ID), token, nil},
		{http.MethodGet, "/api/v1/pickups", driver, nil},
		{http.MethodPost, "/api/v1/orders/" + o.ID + "/claim", driver, nil},
		{http.MethodPost, "/api/v1/orders/" + o.ID + "/picked-up", driver, nil},
		{http.MethodPost, "/api/v1/orders/" + o.ID + "/in-transit", driver, nil},
		{http.MethodPost, "/api/v1/orders/" + o.ID + "/delivered", driver, map[string]any{"proof": map[string]any{"pin": "1234"}}},
		{http.MethodPost, "/api/v1/orders/" + o.ID + "/failed", driver, map[string]any{"reason": "other"}},
		{http.MethodPost, "/api/v1/orders/" + o.ID + "/unassign", driver, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			before := logs.FilterMessage("request failed").Len()
			res := f.do(t, request{method: tt.method, path: tt.path, token: tt.token, body: tt.body})
			require.Equal(t, http.StatusInternalServerError, res.status, string(res.body))
			assert.Equal(t, orders.CodeInternal, res.errorCode(t))
			assert.JSONEq(t, `{"error":{"code":"internal","message":"internal error"}}`, string(res.body))
			failed := logs.FilterMessage("request failed")
			require.Equal(t, before+1, failed.Len(), "internal errors are logged once")
			id := res.header.Get(echo.HeaderXRequestID)
			assert.True(t, orders.ValidID(id), "a generated request id: %q", id)
			assert.Equal(t, id, failed.All()[failed.Len()-1].ContextMap()["request_id"], "the log names the request")
		})
	}
	for _, entry := range logs.All() {
		for _, tok := range []string{token, driver} {
			for _, field := range entry.Context {
				assert.NotContains(t, field.String, tok)
				if err, ok := field.Interface.(error); ok {
					assert.NotContains(t, err.Error(), tok)
				}
			}
			assert.False(t, strings.Contains(entry.Message, tok))
		}
	}
}

// TestAbandonedRequest: a client that went away is not a fault to page
// anyone about.
func TestAbandonedRequest(t *testing.T) {
	f := newFixture(t)
	core, logs := observer.New(zap.DebugLevel)
	e := echo.New()
	Register(e.Group("/api/v1"), Config{}, f.svc, mustVerifier(t, f), zap.New(core))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := newRequest(t, http.MethodGet, "/api/v1/orders", f.token(t, "t1", orders.RoleVendor, "v1")).WithContext(ctx)
	rec := serve(e, req)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Zero(t, logs.FilterMessage("request failed").Len())
	assert.Equal(t, 1, logs.FilterMessage("request abandoned").Len())
}
