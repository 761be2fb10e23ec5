package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestVerify(t *testing.T) {
	now := time.Now()
	cfg := Config{Secret: secret, Issuer: "dispatchd", Audience: "dispatch-api"}
	v, err := NewVerifier(cfg)
	require.NoError(t, err)
	good := Claims{Subject: "d-1", Tenant: "acme", Role: orders.RoleDriver}

	signed := func(c Config, cl Claims, ttl time.Duration, at time.Time) string {
		tok, err := Sign(c, cl, ttl, at)
		require.NoError(t, err)
		return tok
	}
	custom := func(method jwt.SigningMethod, key any, mc jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, mc).SignedString(key)
		require.NoError(t, err)
		return tok
	}
	base := jwt.MapClaims{"sub": "d-1", "tenant": "acme", "role": "driver", "iss": "dispatchd", "aud": "dispatch-api", "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		m := jwt.MapClaims{}
		for kk, vv := range base {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	// alg:none, built by hand: the library refuses to sign it.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"d-1","tenant":"acme","role":"driver","exp":9999999999}`)) + "."
	// HS384 with the right secret is still the wrong algorithm.
	hs384 := custom(jwt.SigningMethodHS384, secret, base)

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", signed(cfg, good, time.Hour, now), true},
		{"expired", signed(cfg, good, -time.Minute, now), false},
		{"issued in the future", signed(cfg, good, time.Hour, now.Add(time.Hour)), false},
		{"wrong secret", signed(Config{Secret: []byte("another-secret-another-secret!!"), Issuer: "dispatchd", Audience: "dispatch-api"}, good, time.Hour, now), false},
		{"wrong issuer", signed(Config{Secret: secret, Issuer: "evil", Audience: "dispatch-api"}, good, time.Hour, now), false},
		{"wrong audience", custom(jwt.SigningMethodHS256, secret, with("aud", "other")), false},
		{"no exp", custom(jwt.SigningMethodHS256, secret, with("exp", nil)), false},
		{"not yet valid", custom(jwt.SigningMethodHS256, secret, with("nbf", now.Add(time.Hour).Unix())), false},
		{"alg none", none, false},
		{"HS384", hs384, false},
		{"unknown role", custom(jwt.SigningMethodHS256, secret, with("role", "admin")), false},
		{"tenant with dot", custom(jwt.SigningMethodHS256, secret, with("tenant", "a.b")), false},
		{"missing sub", custom(jwt.SigningMethodHS256, secret, with("sub", nil)), false},
		{"garbage", "not.a.token", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(tt.token)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, now.Add(time.Hour).Unix(), c.Expires.Unix(), "Expires is the token's exp")
				assert.Equal(t, time.UTC, c.Expires.Location())
				c.Expires = time.Time{}
				assert.Equal(t, good, c)
				return
			}
			require.ErrorIs(t, err, ErrUnauthorized)
		})
	}
}

func TestKeyConfusionWithPublicKeyBytes(t *testing.T) {
	// An RS256-style header signed with HMAC over "public" bytes must fail
	// on the algorithm pin alone.
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","tenant":"acme","role":"vendor","exp":9999999999}`))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(header + "." + payload))
	tok := header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	v, err := NewVerifier(Config{Secret: secret})
	require.NoError(t, err)
	_, err = v.Verify(tok)
	require.ErrorIs(t, err, ErrUnauthorized)
}

func TestEmptySecretRefused(t *testing.T) {
	_, err := NewVerifier(Config{})
	require.Error(t, err)
	_, err = Sign(Config{}, Claims{}, time.Hour, time.Now())
	require.Error(t, err)
}

// TestGlobalSecretOff: with auth.global_secret false, a token of a tenant
// without keys is refused even when the global secret signed it (the
// contract: the global secret "can be switched off").
func TestGlobalSecretOff(t *testing.T) {
	on, off := true, false
	cl := Claims{Subject: "d-1", Tenant: "acme", Role: orders.RoleDriver}
	tok, err := Sign(Config{Secret: secret}, cl, time.Hour, time.Now())
	require.NoError(t, err)
	for _, tc := range []struct {
		global *bool
		ok     bool
	}{{nil, true}, {&on, true}, {&off, false}} {
		v, err := NewTenantVerifier(Config{Secret: secret, GlobalSecret: tc.global}, noKeys{})
		require.NoError(t, err)
		_, err = v.Verify(tok)
		if tc.ok {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, ErrUnauthorized)
		}
	}
}
