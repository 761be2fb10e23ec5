package tenants

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/orders"
)

func jwkOf(t *testing.T, key any) json.RawMessage {
	t.Helper()
	b, err := jose.JSONWebKey{Key: key}.MarshalJSON()
	require.NoError(t, err)
	return b
}

func TestNewKeyRequest(t *testing.T) {
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name string
		req  NewKeyRequest
		ok   bool
	}{
		{"hs256", NewKeyRequest{KID: "k1", Alg: AlgHS256, Secret: secret}, true},
		{"hs256 short", NewKeyRequest{KID: "k1", Alg: AlgHS256, Secret: secret[:31]}, false},
		{"hs256 with a jwk", NewKeyRequest{KID: "k1", Alg: AlgHS256, Secret: secret, JWK: jwkOf(t, edPub)}, false},
		{"eddsa", NewKeyRequest{KID: "k1", Alg: AlgEdDSA, JWK: jwkOf(t, edPub)}, true},
		{"eddsa private", NewKeyRequest{KID: "k1", Alg: AlgEdDSA, JWK: jwkOf(t, edPriv)}, false},
		{"es256", NewKeyRequest{KID: "k1", Alg: AlgES256, JWK: jwkOf(t, &p256.PublicKey)}, true},
		{"es256 on P-384", NewKeyRequest{KID: "k1", Alg: AlgES256, JWK: jwkOf(t, &p384.PublicKey)}, false},
		{"rs256", NewKeyRequest{KID: "k1", Alg: AlgRS256, JWK: jwkOf(t, &rsa2048.PublicKey)}, true},
		{"rs256 1024 bits", NewKeyRequest{KID: "k1", Alg: AlgRS256, JWK: jwkOf(t, &rsa1024.PublicKey)}, false},
		{"an RSA key called EdDSA", NewKeyRequest{KID: "k1", Alg: AlgEdDSA, JWK: jwkOf(t, &rsa2048.PublicKey)}, false},
		{"a secret for EdDSA", NewKeyRequest{KID: "k1", Alg: AlgEdDSA, Secret: secret}, false},
		{"none", NewKeyRequest{KID: "k1", Alg: "none", Secret: secret}, false},
		{"bad kid", NewKeyRequest{KID: "k 1", Alg: AlgHS256, Secret: secret}, false},
		{"not a jwk", NewKeyRequest{KID: "k1", Alg: AlgEdDSA, JWK: json.RawMessage(`{"kty":"nope"}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.req.Key("acme")
			if !tt.ok {
				require.Error(t, err)
				code, _ := orders.CodeOf(err)
				assert.Equal(t, orders.CodeInvalidArgument, code)
				return
			}
			require.NoError(t, err)
			v, err := k.Verifier()
			require.NoError(t, err)
			assert.Equal(t, tt.req.Alg, v.Alg)
		})
	}
}

func TestAPIKeys(t *testing.T) {
	a, ha := NewAPIKey()
	b, hb := NewAPIKey()
	assert.True(t, IsAPIKey(a))
	assert.NotEqual(t, a, b)
	assert.NotEqual(t, ha, hb)
	assert.Equal(t, ha, HashAPIKey(a))
	assert.NotContains(t, ha, a[3:], "the hash is not the key")
	assert.Len(t, a, 3+43, "256 random bits")
}

// fakeStore serves snapshots and counts loads.
type fakeStore struct {
	gen   atomic.Int64
	loads atomic.Int32
	snap  atomic.Pointer[Snapshot]
}

func (f *fakeStore) RegistryGeneration(context.Context) (int64, error) { return f.gen.Load(), nil }
func (f *fakeStore) LoadRegistry(context.Context) (Snapshot, error) {
	f.loads.Add(1)
	s := *f.snap.Load()
	s.Generation = f.gen.Load()
	return s, nil
}

func TestCacheFollowsTheGeneration(t *testing.T) {
	st := &fakeStore{}
	st.snap.Store(&Snapshot{Tenants: []Tenant{{ID: "acme", Settings: Settings{Strategy: orders.StrategyNearest}}}})
	c := NewCache(st, 10*time.Millisecond, zaptest.NewLogger(t))
	require.NoError(t, c.Load(context.Background()))
	_, keyed := c.TenantKeys("acme")
	assert.False(t, keyed, "registered without keys: the global secret signs for it")
	s, ok := c.Settings("acme")
	require.True(t, ok)
	assert.Equal(t, orders.StrategyNearest, s.Strategy)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, int32(1), st.loads.Load(), "no change, no reload")

	key, hash := NewAPIKey()
	st.snap.Store(&Snapshot{
		Tenants: []Tenant{{ID: "acme"}},
		Keys:    []Key{{Tenant: "acme", KID: "k1", Alg: AlgHS256, Material: strings.Repeat("s", 32)}, {Tenant: "acme", KID: "bad", Alg: AlgEdDSA, Material: "{}"}},
		APIKeys: []StoredAPIKey{{APIKey: APIKey{ID: "a1", Tenant: "acme", Sub: "v1"}, Hash: hash}},
	})
	st.gen.Add(1)
	require.Eventually(t, func() bool { _, keyed := c.TenantKeys("acme"); return keyed }, time.Second, 5*time.Millisecond)
	keys, _ := c.TenantKeys("acme")
	require.Len(t, keys, 1, "an unusable stored key is left out")
	got, ok := c.APIKey(key)
	require.True(t, ok)
	assert.Equal(t, "v1", got.Sub)
	_, ok = c.APIKey(key + "x")
	assert.False(t, ok)
	k, found, keyed := c.SigningKey("acme")
	assert.True(t, found && keyed)
	assert.Equal(t, "k1", k.KID)
	cancel()
	require.NoError(t, <-done)
}
