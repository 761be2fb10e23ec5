package rest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestEveryLogLineHasTheRequestID drives the requests that log (admin
// changes, refusals, minting, rate limits) and requires each line to carry
// the request id the response named, so an operator can join a client's
// X-Request-Id to the server's log.
func TestEveryLogLineHasTheRequestID(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	f := newRegistryFixtureLog(t, Config{EventsPerSecond: 0.001, EventBurst: 3}, zap.New(core))
	var ids []string
	note := func(res response) response {
		t.Helper()
		id := res.header.Get("X-Request-Id")
		require.NotEmpty(t, id)
		ids = append(ids, id)
		return res
	}
	admin := func(method, path string, body any) response {
		t.Helper()
		return note(f.admin(t, method, "/tenants"+path, body))
	}
	require.Equal(t, http.StatusCreated, admin(http.MethodPost, "", map[string]any{"id": "acme", "name": "acme"}).status)
	require.Equal(t, http.StatusCreated, admin(http.MethodPost, "/acme/keys", map[string]any{"kid": "k1", "alg": "HS256", "secret": secretA}).status)
	res := admin(http.MethodPost, "/acme/api-keys", map[string]any{"name": "backend", "sub": "shop-1"})
	require.Equal(t, http.StatusCreated, res.status)
	var key struct{ ID, Key string }
	require.NoError(t, json.Unmarshal(res.body, &key))
	do := func(r request) response { t.Helper(); return note(f.do(t, r)) }
	require.Equal(t, http.StatusCreated, do(request{method: http.MethodPost, path: "/api/v1/tokens", token: key.Key,
		body: map[string]any{"role": "driver", "sub": "d1"}}).status)
	for range 3 { // the third is over the burst of three
		do(request{method: http.MethodGet, path: "/api/v1/orders", token: key.Key})
	}
	require.Equal(t, http.StatusUnauthorized, do(request{method: http.MethodGet, path: "/api/v1/orders", token: "not-a-jwt"}).status)
	require.Equal(t, http.StatusUnauthorized, do(request{method: http.MethodGet, path: "/api/v1/orders", token: "dk_never-issued"}).status)
	require.Equal(t, http.StatusUnauthorized, do(request{method: http.MethodGet, path: "/api/v1/admin/tenants", token: "wrong"}).status)
	require.Equal(t, http.StatusNoContent, admin(http.MethodDelete, "/acme/api-keys/"+key.ID, nil).status)
	require.Equal(t, http.StatusNoContent, admin(http.MethodDelete, "/acme/keys/k1", nil).status)

	seen := map[string]bool{}
	for _, e := range logs.All() {
		id, _ := e.ContextMap()["request_id"].(string)
		require.Contains(t, ids, id, "%q carries a request id a response named", e.Message)
		seen[e.Message] = true
	}
	for _, msg := range []string{"tenant created", "tenant key added", "api key created", "token minted",
		"request rate limited", "token refused", "api key refused: unknown or revoked",
		"admin request refused: no or wrong admin token", "api key revoked", "tenant key deleted"} {
		require.True(t, seen[msg], "logged: %s", msg)
	}
}
