package rest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

const adminToken = "admin-token-for-tests"

// registryFixture is the REST and admin APIs over one store, with the
// registry's cache reloaded by hand after each change.
type registryFixture struct {
	*fixture
	cache *tenants.Cache
}

func newRegistryFixture(t testing.TB, rc Config) *registryFixture {
	t.Helper()
	return newRegistryFixtureLog(t, rc, zaptest.NewLogger(t))
}

// newRegistryFixtureLog is newRegistryFixture logging to log.
func newRegistryFixtureLog(t testing.TB, rc Config, log *zap.Logger) *registryFixture {
	t.Helper()
	f := newFixture(t)
	cache := tenants.NewCache(f.store, time.Hour, zaptest.NewLogger(t))
	require.NoError(t, cache.Load(context.Background()))
	verifier, err := auth.NewTenantVerifier(f.auth, cache)
	require.NoError(t, err)
	rc.APIKeys, rc.Minter = cache, tenants.Minter{Cache: cache, Auth: f.auth}
	f.e = echo.New()
	Register(f.e.Group("/api/v1"), rc, f.svc, verifier, log)
	RegisterAdmin(f.e.Group("/api/v1/admin"), adminToken, f.store, nil, log)
	return &registryFixture{fixture: f, cache: cache}
}

// admin calls the admin API and reloads the cache, as every node's poll
// would.
func (f *registryFixture) admin(t testing.TB, method, path string, body any) response {
	t.Helper()
	res := f.do(t, request{method: method, path: "/api/v1/admin" + path, token: adminToken, body: body})
	require.NoError(t, f.cache.Load(context.Background()))
	return res
}

func (f *registryFixture) tenantWithKey(t testing.TB, id, kid, secret string) {
	t.Helper()
	require.Equal(t, http.StatusCreated, f.admin(t, http.MethodPost, "/tenants", map[string]any{"id": id, "name": id}).status)
	res := f.admin(t, http.MethodPost, "/tenants/"+id+"/keys", map[string]any{"kid": kid, "alg": "HS256", "secret": secret})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
}

func signWith(t testing.TB, method jwt.SigningMethod, key any, kid, tenant string, role orders.Role, sub string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims{"sub": sub, "tenant": tenant, "role": string(role),
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

var (
	secretA = strings.Repeat("a", 32)
	secretB = strings.Repeat("b", 32)
)

func TestAdminAPI(t *testing.T) {
	f := newRegistryFixture(t, Config{})
	for _, tok := range []string{"", "wrong"} {
		res := f.do(t, request{method: http.MethodGet, path: "/api/v1/admin/tenants", token: tok})
		assert.Equal(t, http.StatusUnauthorized, res.status)
	}
	for _, r := range [][2]string{{http.MethodPost, "/tenants"}, {http.MethodGet, "/tenants/acme"}, {http.MethodPatch, "/tenants/acme"},
		{http.MethodPost, "/tenants/acme/keys"}, {http.MethodDelete, "/tenants/acme/keys/k1"},
		{http.MethodPost, "/tenants/acme/api-keys"}, {http.MethodDelete, "/tenants/acme/api-keys/x"}} {
		res := f.do(t, request{method: r[0], path: "/api/v1/admin" + r[1], token: "wrong", body: map[string]any{}})
		assert.Equal(t, http.StatusUnauthorized, res.status, "%s %s", r[0], r[1])
	}
	jwtTok := f.token(t, "t1", orders.RoleVendor, "v1")
	assert.Equal(t, http.StatusUnauthorized, f.do(t, request{method: http.MethodGet, path: "/api/v1/admin/tenants", token: jwtTok}).status,
		"a client token is no admin token")

	res := f.admin(t, http.MethodPost, "/tenants", map[string]any{"id": "acme", "name": "Acme", "settings": map[string]any{"strategy": "nearest"}})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	assert.Equal(t, http.StatusConflict, f.admin(t, http.MethodPost, "/tenants", map[string]any{"id": "acme", "name": "Again"}).status)
	assert.Equal(t, http.StatusBadRequest, f.admin(t, http.MethodPost, "/tenants", map[string]any{"id": "no spaces", "name": "x"}).status)
	res = f.admin(t, http.MethodGet, "/tenants", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, string(res.body), `"strategy":"nearest"`)
	assert.Equal(t, http.StatusOK, f.admin(t, http.MethodGet, "/tenants/acme", nil).status)
	assert.Equal(t, http.StatusNotFound, f.admin(t, http.MethodGet, "/tenants/nope", nil).status)
	res = f.admin(t, http.MethodPatch, "/tenants/acme", map[string]any{"settings": map[string]any{"strategy": "auto"}})
	require.Equal(t, http.StatusOK, res.status)
	st, ok := f.cache.Settings("acme")
	require.True(t, ok)
	assert.Equal(t, orders.StrategyAuto, st.Strategy)
	assert.Equal(t, http.StatusBadRequest, f.admin(t, http.MethodPatch, "/tenants/acme", map[string]any{"settings": map[string]any{"strategy": "fastest"}}).status)
	assert.Equal(t, http.StatusNotFound, f.admin(t, http.MethodPatch, "/tenants/nope", map[string]any{"name": "x"}).status)

	res = f.admin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k1", "alg": "HS256", "secret": secretA})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	assert.NotContains(t, string(res.body), secretA, "the secret never comes back")
	assert.Equal(t, http.StatusConflict, f.admin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k1", "alg": "HS256", "secret": secretB}).status)
	assert.Equal(t, http.StatusBadRequest, f.admin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k2", "alg": "HS256", "secret": "short"}).status)
	assert.Equal(t, http.StatusNotFound, f.admin(t, http.MethodPost, "/tenants/nope/keys", map[string]any{"kid": "k1", "alg": "HS256", "secret": secretA}).status)
	assert.Equal(t, http.StatusNoContent, f.admin(t, http.MethodDelete, "/tenants/acme/keys/k1", nil).status)
	assert.Equal(t, http.StatusNotFound, f.admin(t, http.MethodDelete, "/tenants/acme/keys/k1", nil).status)

	res = f.admin(t, http.MethodPost, "/tenants/acme/api-keys", map[string]any{"name": "backend", "sub": "v1"})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	var created struct{ ID, Key string }
	require.NoError(t, json.Unmarshal(res.body, &created))
	assert.True(t, strings.HasPrefix(created.Key, "dk_"))
	assert.Equal(t, http.StatusBadRequest, f.admin(t, http.MethodPost, "/tenants/acme/api-keys", map[string]any{"sub": "not ok"}).status)
	assert.Equal(t, http.StatusNotFound, f.admin(t, http.MethodPost, "/tenants/nope/api-keys", map[string]any{"sub": "v1"}).status)
	assert.Equal(t, http.StatusNoContent, f.admin(t, http.MethodDelete, "/tenants/acme/api-keys/"+created.ID, nil).status)
	assert.Equal(t, http.StatusNotFound, f.admin(t, http.MethodDelete, "/tenants/acme/api-keys/"+created.ID, nil).status)
}

func TestAdminAPIOffWithoutToken(t *testing.T) {
	f := newFixture(t)
	RegisterAdmin(f.e.Group("/api/v1/admin"), "", f.store, nil, zaptest.NewLogger(t))
	res := f.do(t, request{method: http.MethodGet, path: "/api/v1/admin/tenants", token: ""})
	assert.NotEqual(t, http.StatusOK, res.status)
	assert.Equal(t, http.StatusUnauthorized, res.status, "no route: the API's own 401 for the missing token, not an admin answer")
}

func TestAdminInternalErrors(t *testing.T) {
	f := newRegistryFixture(t, Config{})
	require.NoError(t, f.store.Close())
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/tenants", map[string]any{"id": "acme", "name": "Acme"}},
		{http.MethodGet, "/tenants", nil},
		{http.MethodGet, "/tenants/acme", nil},
		{http.MethodPatch, "/tenants/acme", map[string]any{"name": "x"}},
		{http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k1", "alg": "HS256", "secret": secretA}},
		{http.MethodDelete, "/tenants/acme/keys/k1", nil},
		{http.MethodPost, "/tenants/acme/api-keys", map[string]any{"sub": "v1"}},
		{http.MethodDelete, "/tenants/acme/api-keys/x", nil},
	} {
		res := f.do(t, request{method: c.method, path: "/api/v1/admin" + c.path, token: adminToken, body: c.body})
		assert.Equal(t, http.StatusInternalServerError, res.status, "%s %s: %s", c.method, c.path, res.body)
	}
}

// TestForgedTokens: a keyed tenant's tokens must be signed by its own
// keys, by kid, with the key's algorithm; all else is 401.
func TestForgedTokens(t *testing.T) {
	f := newRegistryFixture(t, Config{})
	f.tenantWithKey(t, "acme", "k1", secretA)
	f.tenantWithKey(t, "globex", "g1", secretB)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwk, err := jose.JSONWebKey{Key: pub, KeyID: "ed1", Algorithm: "EdDSA"}.MarshalJSON()
	require.NoError(t, err)
	res := f.admin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "ed1", "alg": "EdDSA", "jwk": json.RawMessage(jwk)})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))

	get := func(tok string) int {
		return f.do(t, request{method: http.MethodGet, path: "/api/v1/orders", token: tok}).status
	}
	hs := jwt.SigningMethodHS256
	assert.Equal(t, http.StatusOK, get(signWith(t, hs, []byte(secretA), "k1", "acme", orders.RoleVendor, "v1")), "its own HS256 key")
	assert.Equal(t, http.StatusOK, get(signWith(t, jwt.SigningMethodEdDSA, priv, "ed1", "acme", orders.RoleVendor, "v1")), "its own EdDSA key")
	assert.Equal(t, http.StatusOK, get(f.token(t, "initech", orders.RoleVendor, "v1")), "a tenant without keys: the global secret")

	forged := map[string]string{
		"the global secret claiming a keyed tenant": f.token(t, "acme", orders.RoleVendor, "v1"),
		"another tenant's key":                      signWith(t, hs, []byte(secretB), "g1", "acme", orders.RoleVendor, "v1"),
		"another tenant's key under acme's kid":     signWith(t, hs, []byte(secretB), "k1", "acme", orders.RoleVendor, "v1"),
		"an unknown kid":                            signWith(t, hs, []byte(secretA), "k9", "acme", orders.RoleVendor, "v1"),
		"no kid":                                    signWith(t, hs, []byte(secretA), "", "acme", orders.RoleVendor, "v1"),
		"HS256 keyed with the public key":           signWith(t, hs, []byte(pub), "ed1", "acme", orders.RoleVendor, "v1"),
		"HS256 keyed with the public JWK":           signWith(t, hs, jwk, "ed1", "acme", orders.RoleVendor, "v1"),
		"EdDSA under the HS256 kid":                 signWith(t, jwt.SigningMethodEdDSA, priv, "k1", "acme", orders.RoleVendor, "v1"),
	}
	for name, tok := range forged {
		assert.Equal(t, http.StatusUnauthorized, get(tok), name)
	}
	require.Equal(t, http.StatusNoContent, f.admin(t, http.MethodDelete, "/tenants/acme/keys/k1", nil).status)
	assert.Equal(t, http.StatusUnauthorized, get(signWith(t, hs, []byte(secretA), "k1", "acme", orders.RoleVendor, "v1")), "a deleted kid")
}

func TestAPIKeysAndMintedTokens(t *testing.T) {
	f := newRegistryFixture(t, Config{EventsPerSecond: 1000, EventBurst: 1000})
	f.tenantWithKey(t, "acme", "k1", secretA)
	res := f.admin(t, http.MethodPost, "/tenants/acme/api-keys", map[string]any{"name": "backend", "sub": "shop-1"})
	require.Equal(t, http.StatusCreated, res.status)
	var key struct{ ID, Key string }
	require.NoError(t, json.Unmarshal(res.body, &key))

	// The API key acts as its vendor.
	res = f.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: key.Key, body: newOrder("c1")})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	assert.Equal(t, "shop-1", res.order(t).VendorID)

	mint := func(tok string, body any) response {
		return f.do(t, request{method: http.MethodPost, path: "/api/v1/tokens", token: tok, body: body})
	}
	res = mint(key.Key, map[string]any{"role": "driver", "sub": "d1", "ttl": 600})
	require.Equal(t, http.StatusCreated, res.status, string(res.body))
	var minted struct {
		Token string `json:"token"`
		Exp   int64  `json:"exp"`
	}
	require.NoError(t, json.Unmarshal(res.body, &minted))
	assert.InDelta(t, time.Now().Add(10*time.Minute).Unix(), minted.Exp, 2)
	v, err := auth.NewTenantVerifier(f.auth, f.cache)
	require.NoError(t, err)
	c, err := v.Verify(minted.Token)
	require.NoError(t, err)
	assert.Equal(t, minted.Exp, c.Expires.Unix(), "the token's exp is the one answered")
	c.Expires = time.Time{}
	assert.Equal(t, auth.Claims{Subject: "d1", Tenant: "acme", Role: orders.RoleDriver}, c)
	parsed, _, err := jwt.NewParser().ParseUnverified(minted.Token, jwt.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, "k1", parsed.Header["kid"], "signed with the tenant's key")

	assert.Equal(t, http.StatusForbidden, mint(f.token(t, "initech", orders.RoleVendor, "v1"), map[string]any{"role": "driver", "sub": "d1"}).status,
		"a JWT mints nothing")
	assert.Equal(t, http.StatusBadRequest, mint(key.Key, map[string]any{"role": "vendor", "sub": "d1"}).status)
	assert.Equal(t, http.StatusBadRequest, mint(key.Key, map[string]any{"role": "driver", "sub": "d1", "ttl": 86401}).status)
	assert.Equal(t, http.StatusRequestEntityTooLarge, mint(key.Key, strings.Repeat(" ", MaxBodyBytes+1)).status)

	// A tenant with public keys only cannot have tokens minted here.
	require.Equal(t, http.StatusCreated, f.admin(t, http.MethodPost, "/tenants", map[string]any{"id": "pubonly", "name": "p"}).status)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwk, err := jose.JSONWebKey{Key: pub}.MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, f.admin(t, http.MethodPost, "/tenants/pubonly/keys", map[string]any{"kid": "e1", "alg": "EdDSA", "jwk": json.RawMessage(jwk)}).status)
	res = f.admin(t, http.MethodPost, "/tenants/pubonly/api-keys", map[string]any{"sub": "v1"})
	require.NoError(t, json.Unmarshal(res.body, &key))
	assert.Equal(t, http.StatusConflict, mint(key.Key, map[string]any{"role": "driver", "sub": "d1"}).status)

	require.Equal(t, http.StatusNoContent, f.admin(t, http.MethodDelete, "/tenants/pubonly/api-keys/"+key.ID, nil).status)
	assert.Equal(t, http.StatusUnauthorized, mint(key.Key, map[string]any{"role": "driver", "sub": "d1"}).status, "a revoked key")
	assert.Equal(t, http.StatusUnauthorized, mint("dk_never-issued", map[string]any{"role": "driver", "sub": "d1"}).status)
}

func TestMintRateLimited(t *testing.T) {
	f := newRegistryFixture(t, Config{EventsPerSecond: 0.001, EventBurst: 1})
	f.tenantWithKey(t, "acme", "k1", secretA)
	res := f.admin(t, http.MethodPost, "/tenants/acme/api-keys", map[string]any{"sub": "v1"})
	var key struct{ Key string }
	require.NoError(t, json.Unmarshal(res.body, &key))
	statuses := []int{}
	for range 2 {
		statuses = append(statuses, f.do(t, request{method: http.MethodPost, path: "/api/v1/tokens", token: key.Key,
			body: map[string]any{"role": "driver", "sub": "d1"}}).status)
	}
	assert.Equal(t, []int{http.StatusCreated, http.StatusTooManyRequests}, statuses)
}
