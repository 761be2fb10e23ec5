//go:build unix

package tenants

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// node is one running server with its admin token.
type node struct {
	*testproc.Proc
	admin string
}

func (n node) call(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, n.URL+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, b
}

func (n node) mustAdmin(t *testing.T, method, path string, body any) {
	t.Helper()
	status, b := n.call(t, method, "/api/v1/admin"+path, n.admin, body)
	require.Less(t, status, 300, "%s %s: %d %s", method, path, status, b)
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid, tenant string, role orders.Role, sub string) string {
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

// connects reports whether a driver socket with token gets in, and the
// refusal's code when not.
func connects(t *testing.T, url, token string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, url)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Connect(ctx, "/drivers", map[string]string{"token": token})
	if err == nil {
		return true, ""
	}
	var ce *sioclient.ConnectError
	require.True(t, errors.As(err, &ce), "%v", err)
	var data struct{ Code string }
	_ = json.Unmarshal(ce.Data, &data)
	return false, data.Code
}

var (
	secretA = strings.Repeat("A", 32)
	secretB = strings.Repeat("B", 32)
)

// TestForgeriesOnSocketsAndREST: a keyed tenant's sockets and REST accept
// its own keys only.
func TestForgeriesOnSocketsAndREST(t *testing.T) {
	global, admin := testproc.RandomHex(t, 32), testproc.RandomHex(t, 32)
	n := node{testproc.StartWith(t, bin, testproc.Options{Env: []string{"DISPATCH_JWT_SECRET=" + global,
		"DISPATCH_ADMIN_TOKEN=" + admin, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn"}}), admin}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwk, err := jose.JSONWebKey{Key: pub}.MarshalJSON()
	require.NoError(t, err)
	for _, tn := range []string{"acme", "globex"} {
		n.mustAdmin(t, http.MethodPost, "/tenants", map[string]any{"id": tn, "name": tn})
	}
	n.mustAdmin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "a1", "alg": "HS256", "secret": secretA})
	n.mustAdmin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "a-ed", "alg": "EdDSA", "jwk": json.RawMessage(jwk)})
	n.mustAdmin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "a-old", "alg": "HS256", "secret": secretB + "old"})
	n.mustAdmin(t, http.MethodDelete, "/tenants/acme/keys/a-old", nil)
	n.mustAdmin(t, http.MethodPost, "/tenants/globex/keys", map[string]any{"kid": "g1", "alg": "HS256", "secret": secretB})

	hs, ed := jwt.SigningMethodHS256, jwt.SigningMethodEdDSA
	good := map[string]string{
		"acme's HS256 key": sign(t, hs, []byte(secretA), "a1", "acme", orders.RoleDriver, "d1"),
		"acme's EdDSA key": sign(t, ed, priv, "a-ed", "acme", orders.RoleDriver, "d1"),
		"a keyless tenant": sign(t, hs, []byte(global), "", "initech", orders.RoleDriver, "d1"),
		"globex's own key": sign(t, hs, []byte(secretB), "g1", "globex", orders.RoleDriver, "d1"),
	}
	forged := map[string]string{
		"tenant A's key claiming tenant B":     sign(t, hs, []byte(secretA), "a1", "globex", orders.RoleDriver, "d1"),
		"the global secret claiming acme":      sign(t, hs, []byte(global), "", "acme", orders.RoleDriver, "d1"),
		"the global secret under acme's kid":   sign(t, hs, []byte(global), "a1", "acme", orders.RoleDriver, "d1"),
		"a deleted kid":                        sign(t, hs, []byte(secretB+"old"), "a-old", "acme", orders.RoleDriver, "d1"),
		"an unknown kid":                       sign(t, hs, []byte(secretA), "a9", "acme", orders.RoleDriver, "d1"),
		"alg confusion: HS256 with the JWK":    sign(t, hs, []byte(jwk), "a-ed", "acme", orders.RoleDriver, "d1"),
		"alg confusion: HS256 with the pubkey": sign(t, hs, []byte(pub), "a-ed", "acme", orders.RoleDriver, "d1"),
	}
	for name, tok := range good {
		ok, code := connects(t, n.URL, tok)
		assert.True(t, ok, "socket, %s: refused %s", name, code)
		status, b := n.call(t, http.MethodGet, "/api/v1/orders", tok, nil)
		assert.Equal(t, http.StatusOK, status, "REST, %s: %s", name, b)
	}
	for name, tok := range forged {
		ok, code := connects(t, n.URL, tok)
		assert.False(t, ok, "socket, %s", name)
		assert.Equal(t, string(orders.CodeUnauthorized), code, "socket, %s", name)
		status, _ := n.call(t, http.MethodGet, "/api/v1/orders", tok, nil)
		assert.Equal(t, http.StatusUnauthorized, status, "REST, %s", name)
	}
}

// TestRotationAcrossNodes: two nodes on one PostgreSQL; a key added on
// node A works on both, and once deleted on A its tokens are refused by
// node B within a second.
func TestRotationAcrossNodes(t *testing.T) {
	dbURL, natsURL := os.Getenv("DISPATCH_TEST_DATABASE_URL"), os.Getenv("DISPATCH_TEST_NATS_URL")
	if dbURL == "" || natsURL == "" {
		t.Skip("needs DISPATCH_TEST_DATABASE_URL and DISPATCH_TEST_NATS_URL")
	}
	admin, db := testproc.RandomHex(t, 32), testproc.FreshSchema(t, dbURL, "tenants")
	id := testproc.RandomHex(t, 4)
	env := func() []string {
		return []string{"DISPATCH_JWT_SECRET=" + testproc.RandomHex(t, 32), "DISPATCH_ADMIN_TOKEN=" + admin,
			"DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn", "DISPATCH_DATABASE_URL=" + db,
			"DISPATCH_NATS_URL=" + natsURL, "DISPATCH_NATS_STREAM=TENANTS_" + strings.ToUpper(id), "DISPATCH_NATS_PREFIX=tenants_" + id,
			// The test polls as one user far faster than a person would.
			"DISPATCH_EVENTS_PER_SECOND=100000", "DISPATCH_EVENT_BURST=100000"}
	}
	a := node{testproc.StartWith(t, bin, testproc.Options{Name: "node-a", Env: env()}), admin}
	b := node{testproc.StartWith(t, bin, testproc.Options{Name: "node-b", Env: env()}), admin}
	a.mustAdmin(t, http.MethodPost, "/tenants", map[string]any{"id": "acme", "name": "Acme"})
	a.mustAdmin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k1", "alg": "HS256", "secret": secretA})
	k1 := sign(t, jwt.SigningMethodHS256, []byte(secretA), "k1", "acme", orders.RoleDriver, "d1")
	k2 := sign(t, jwt.SigningMethodHS256, []byte(secretB), "k2", "acme", orders.RoleDriver, "d1")
	status := func(n node, tok string) int {
		s, _ := n.call(t, http.MethodGet, "/api/v1/orders", tok, nil)
		return s
	}
	require.Eventually(t, func() bool { return status(b, k1) == http.StatusOK }, 2*time.Second, 10*time.Millisecond, "node B learns key 1")

	a.mustAdmin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k2", "alg": "HS256", "secret": secretB})
	require.Eventually(t, func() bool { return status(b, k2) == http.StatusOK }, 2*time.Second, 10*time.Millisecond, "node B learns key 2")
	for _, n := range []node{a, b} {
		assert.Equal(t, http.StatusOK, status(n, k1), "both keys work during the rotation")
		assert.Equal(t, http.StatusOK, status(n, k2))
	}

	a.mustAdmin(t, http.MethodDelete, "/tenants/acme/keys/k1", nil)
	deleted := time.Now()
	assert.Equal(t, http.StatusUnauthorized, status(a, k1), "node A: at once")
	for status(b, k1) != http.StatusUnauthorized {
		require.Less(t, time.Since(deleted), time.Second, "node B still accepts key 1 a second after its deletion")
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("node B refused key 1 %s after its deletion on node A", time.Since(deleted).Round(time.Millisecond))
	ok, code := connects(t, b.URL, k1)
	assert.False(t, ok)
	assert.Equal(t, string(orders.CodeUnauthorized), code)
	assert.Equal(t, http.StatusOK, status(b, k2))
}

// TestRefreshFollowsTheRegistry: auth:refresh checks the new token like a
// CONNECT does, against the tenant's keys as they are now.
func TestRefreshFollowsTheRegistry(t *testing.T) {
	admin := testproc.RandomHex(t, 32)
	n := node{testproc.StartWith(t, bin, testproc.Options{Env: []string{"DISPATCH_JWT_SECRET=" + testproc.RandomHex(t, 32),
		"DISPATCH_ADMIN_TOKEN=" + admin, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn"}}), admin}
	n.mustAdmin(t, http.MethodPost, "/tenants", map[string]any{"id": "acme", "name": "Acme"})
	n.mustAdmin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k1", "alg": "HS256", "secret": secretA})
	n.mustAdmin(t, http.MethodPost, "/tenants/acme/keys", map[string]any{"kid": "k2", "alg": "HS256", "secret": secretB})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, n.URL)
	require.NoError(t, err)
	defer c.Close()
	go func() {
		for ev := range c.Events {
			_ = c.Ack(ev)
		}
	}()
	_, err = c.Connect(ctx, "/drivers", map[string]string{"token": sign(t, jwt.SigningMethodHS256, []byte(secretA), "k1", "acme", orders.RoleDriver, "d1")})
	require.NoError(t, err)
	refresh := func(tok string) (bool, string) {
		got, err := c.Call(ctx, "/drivers", "auth:refresh", map[string]string{"token": tok})
		require.NoError(t, err)
		var r struct {
			OK    bool `json:"ok"`
			Error *struct{ Code string }
		}
		require.NoError(t, json.Unmarshal(got[0], &r))
		if r.Error != nil {
			return r.OK, r.Error.Code
		}
		return r.OK, ""
	}
	n.mustAdmin(t, http.MethodDelete, "/tenants/acme/keys/k1", nil)
	ok, code := refresh(sign(t, jwt.SigningMethodHS256, []byte(secretA), "k1", "acme", orders.RoleDriver, "d1"))
	assert.False(t, ok, "a deleted key's token does not refresh")
	assert.Equal(t, string(orders.CodeUnauthorized), code)
	ok, code = refresh(sign(t, jwt.SigningMethodHS256, []byte(secretB), "", "acme", orders.RoleDriver, "d1"))
	assert.False(t, ok, "nor one without a kid")
	assert.Equal(t, string(orders.CodeUnauthorized), code)
	ok, _ = refresh(sign(t, jwt.SigningMethodHS256, []byte(secretB), "k2", "acme", orders.RoleDriver, "d1"))
	assert.True(t, ok, "the tenant's current key refreshes")
}
