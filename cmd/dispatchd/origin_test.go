package main

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// getOrigin fetches url as a browser on origin would.
func getOrigin(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	return requestOrigin(t, http.MethodGet, url, origin, nil)
}

// preflightOrigin sends the CORS preflight of a POST to url from origin.
func preflightOrigin(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	return requestOrigin(t, http.MethodOptions, url, origin, map[string]string{
		"Access-Control-Request-Method":  http.MethodPost,
		"Access-Control-Request-Headers": "authorization, content-type",
	})
}

func requestOrigin(t *testing.T, method, url, origin string, header map[string]string) *http.Response {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", origin)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestServeOriginPolicy: the default serves browsers from the server's own
// origin only; "*" is an explicit choice, warned about at start-up.
func TestServeOriginPolicy(t *testing.T) {
	const warning = `transport.allowed_origins has \"*\"`
	tests := []struct {
		name    string
		allowed string
		evilOK  bool
	}{
		{"default", "", false},
		{"listed", "https://web.example", false},
		{"any", "*", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, map[string]string{"DISPATCH_ALLOWED_ORIGINS": tt.allowed}, "serve", "--addr", "127.0.0.1:0")
			hs := "http://" + s.addr + "/socket.io/?EIO=4&transport=polling"

			resp := getOrigin(t, hs, "https://evil.example")
			refused := 0
			if tt.evilOK {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
			} else {
				assert.Equal(t, http.StatusForbidden, resp.StatusCode)
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
				refused = 1
			}

			own := "http://" + s.addr
			resp = getOrigin(t, hs, own)
			if tt.allowed == "" {
				assert.Equal(t, http.StatusOK, resp.StatusCode, "the server's own pages (the console)")
				assert.Equal(t, own, resp.Header.Get("Access-Control-Allow-Origin"))
			} else {
				assert.Equal(t, tt.evilOK, resp.StatusCode == http.StatusOK)
			}
			if !tt.evilOK && tt.allowed != "" {
				refused++
			}

			// REST answers CORS preflights by the same list (they got 401).
			orders := "http://" + s.addr + "/api/v1/orders"
			for origin, want := range map[string]bool{"https://evil.example": tt.evilOK, own: tt.allowed != "https://web.example", "https://web.example": tt.allowed != ""} {
				resp = preflightOrigin(t, orders, origin)
				if !want {
					assert.Equal(t, http.StatusForbidden, resp.StatusCode, origin)
					assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), origin)
					continue
				}
				assert.Equal(t, http.StatusNoContent, resp.StatusCode, origin)
				assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"), origin)
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"), origin)
			}

			_, body := get(t, "http://"+s.addr+"/metrics")
			assert.Contains(t, body, "dispatchd_origin_refused_total "+string(rune('0'+refused)))
			require.NoError(t, s.stop(t))
			if tt.allowed == "*" {
				assert.Contains(t, s.out.String(), warning)
			} else {
				assert.NotContains(t, s.out.String(), warning)
			}
		})
	}
}
