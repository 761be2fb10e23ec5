package rest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// preflight is a browser's CORS preflight of method on path from origin:
// no credentials.
func preflight(path, origin, method string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, path, nil)
	r.Host = "api.example.com"
	r.Header.Set(echo.HeaderOrigin, origin)
	r.Header.Set(echo.HeaderAccessControlRequestMethod, method)
	r.Header.Set(echo.HeaderAccessControlRequestHeaders, "authorization, content-type")
	return r
}

// TestCORSPreflight: preflights are answered without a token (they got
// 401) by transport.allowed_origins, read as the Socket.IO transport
// reads it; refused origins get no CORS header; nothing allows
// credentials.
func TestCORSPreflight(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		origin  string
		path    string
		want    bool
	}{
		{"listed", []string{"https://shop.example.com"}, "https://shop.example.com", "/api/v1/orders", true},
		{"listed, other case", []string{"https://shop.example.com"}, "HTTPS://Shop.Example.com", "/api/v1/orders", true},
		{"listed, order route", []string{"https://a.example", "https://shop.example.com"}, "https://shop.example.com", "/api/v1/orders/" + orders.NewID() + "/claim", true},
		{"listed, pickups", []string{"https://shop.example.com"}, "https://shop.example.com", "/api/v1/pickups", true},
		{"not listed", []string{"https://shop.example.com"}, "https://evil.example", "/api/v1/orders", false},
		{"listed with another port", []string{"https://shop.example.com"}, "https://shop.example.com:8443", "/api/v1/orders", false},
		{"any", []string{"*"}, "https://evil.example", "/api/v1/orders", true},
		{"empty list, same origin", nil, "https://api.example.com", "/api/v1/orders", true},
		{"empty list, other origin", nil, "https://shop.example.com", "/api/v1/orders", false},
		{"empty list, null origin", nil, "null", "/api/v1/orders", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := &recordingObserver{}
			f := newFixtureConfig(t, Config{AllowedOrigins: tt.allowed, Observer: obs})
			rec := serve(f.e, preflight(tt.path, tt.origin, http.MethodPost))
			h := rec.Header()
			if tt.want {
				assert.Empty(t, obs.got)
			} else {
				assert.Equal(t, []string{"rest preflight forbidden"}, obs.got, "a refused preflight is counted")
			}
			assert.Contains(t, h.Values(echo.HeaderVary), echo.HeaderOrigin)
			assert.Empty(t, h.Get(echo.HeaderAccessControlAllowCredentials), "REST never takes cookies")
			if !tt.want {
				require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
				assert.Empty(t, h.Get(echo.HeaderAccessControlAllowOrigin))
				assert.Empty(t, h.Get(echo.HeaderAccessControlAllowMethods))
				assert.JSONEq(t, `{"error":{"code":"forbidden","message":"this origin may not use the API (transport.allowed_origins)"}}`, rec.Body.String())
				return
			}
			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			assert.Equal(t, tt.origin, h.Get(echo.HeaderAccessControlAllowOrigin), "the origin itself, never a wildcard")
			assert.Contains(t, h.Get(echo.HeaderAccessControlAllowMethods), http.MethodPost)
			assert.Contains(t, h.Get(echo.HeaderAccessControlAllowHeaders), "Authorization")
			assert.Contains(t, h.Get(echo.HeaderAccessControlAllowHeaders), HeaderIdempotencyKey)
			assert.NotEmpty(t, h.Get(echo.HeaderAccessControlMaxAge))
			assert.Empty(t, rec.Body.String())
		})
	}
}

// TestCORSRequests: the requests after a preflight carry the CORS headers
// for allowed origins only, errors included, so a page can read a 401 or
// a 429's Retry-After; preflights take nothing from the user's budget;
// requests without an Origin (not a browser) are as they were.
func TestCORSRequests(t *testing.T) {
	const shop = "https://shop.example.com"
	f := newFixtureConfig(t, Config{AllowedOrigins: []string{shop}, EventsPerSecond: 1, EventBurst: 2})
	vendor := f.token(t, "t1", orders.RoleVendor, "v1")
	for range 5 {
		require.Equal(t, http.StatusNoContent, serve(f.e, preflight("/api/v1/orders", shop, http.MethodGet)).Code)
	}
	get := func(origin, token string) response {
		h := map[string]string{}
		if origin != "" {
			h[echo.HeaderOrigin] = origin
		}
		return f.do(t, request{method: http.MethodGet, path: "/api/v1/orders", token: token, header: h})
	}
	tests := []struct {
		name     string
		origin   string
		token    string
		wantCode int
		wantCORS bool
	}{
		{"allowed", shop, vendor, http.StatusOK, true},
		{"not a browser", "", vendor, http.StatusOK, false},
		{"refused origin", "https://evil.example", "", http.StatusUnauthorized, false},
		{"allowed, no token", shop, "", http.StatusUnauthorized, true},
		{"allowed, past the budget", shop, vendor, http.StatusTooManyRequests, true},
	}
	for _, tt := range tests {
		res := get(tt.origin, tt.token)
		require.Equal(t, tt.wantCode, res.status, "%s: %s", tt.name, res.body)
		if !tt.wantCORS {
			assert.Empty(t, res.header.Get(echo.HeaderAccessControlAllowOrigin), tt.name)
			continue
		}
		assert.Equal(t, shop, res.header.Get(echo.HeaderAccessControlAllowOrigin), tt.name)
		assert.Contains(t, res.header.Get(echo.HeaderAccessControlExposeHeaders), "Retry-After", tt.name)
		assert.Empty(t, res.header.Get(echo.HeaderAccessControlAllowCredentials), tt.name)
	}

	// An OPTIONS that is no preflight is an ordinary request: it needs a
	// token like any other.
	r := httptest.NewRequest(http.MethodOptions, "/api/v1/orders", nil)
	r.Header.Set(echo.HeaderOrigin, shop)
	rec := serve(f.e, r)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
}
