package rest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// expiredToken signs a token that expired an hour ago.
func expiredToken(t testing.TB, f *fixture, tenant string, role orders.Role, sub string) string {
	t.Helper()
	tok, err := auth.Sign(f.auth, auth.Claims{Subject: sub, Tenant: tenant, Role: role}, time.Hour, time.Now().Add(-2*time.Hour))
	require.NoError(t, err)
	return tok
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	valid := f.token(t, "t1", orders.RoleVendor, "v1")
	sign := func(cfg auth.Config, c auth.Claims) string {
		tok, err := auth.Sign(cfg, c, time.Hour, time.Now())
		require.NoError(t, err)
		return tok
	}
	tests := []struct {
		name          string
		authorization string // the whole header; empty: none
		wantCode      int
		wantChallenge string
	}{
		{"valid", "Bearer " + valid, http.StatusOK, ""},
		{"scheme in lower case", "bearer " + valid, http.StatusOK, ""},
		{"no header", "", http.StatusUnauthorized, challengeMissing},
		{"basic scheme", "Basic dTpw", http.StatusUnauthorized, challengeMissing},
		{"no token", "Bearer ", http.StatusUnauthorized, challengeMissing},
		{"token alone", valid, http.StatusUnauthorized, challengeMissing},
		{"garbage", "Bearer not.a.jwt", http.StatusUnauthorized, challengeInvalid},
		{"expired", "Bearer " + expiredToken(t, f, "t1", orders.RoleVendor, "v1"), http.StatusUnauthorized, challengeInvalid},
		{"other secret", "Bearer " + sign(auth.Config{Secret: []byte("other")}, claims("t1", orders.RoleVendor, "v1")), http.StatusUnauthorized, challengeInvalid},
		{"unknown role", "Bearer " + sign(f.auth, claims("t1", "admin", "v1")), http.StatusUnauthorized, challengeInvalid},
		{"bad tenant", "Bearer " + sign(f.auth, claims("t.*", orders.RoleVendor, "v1")), http.StatusUnauthorized, challengeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request{method: http.MethodGet, path: "/api/v1/orders"}
			if tt.authorization != "" {
				req.header = map[string]string{"Authorization": tt.authorization}
			}
			res := f.do(t, req)
			require.Equal(t, tt.wantCode, res.status, string(res.body))
			assert.Equal(t, tt.wantChallenge, res.header.Get("WWW-Authenticate"))
			if tt.wantCode != http.StatusOK {
				assert.Equal(t, orders.CodeUnauthorized, res.errorCode(t))
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		give   string
		want   string
		wantOK bool
	}{
		{"Bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer  abc ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Token abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, ok := bearerToken(tt.give)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}
