package engineio

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// originCase is one Origin policy and one request Origin. host is the
// request's Host header (the server's own origin as the client sees it).
type originCase struct {
	name    string
	allowed []string
	host    string
	origin  string
	ok      bool // the request is served
	creds   bool // and granted Access-Control-Allow-Credentials
}

var originCases = []originCase{
	{"no origin, default", nil, "app.example:8080", "", true, false},
	{"no origin, list", []string{"https://other.example"}, "app.example:8080", "", true, false},
	{"same host, default", nil, "app.example:8080", "http://app.example:8080", true, true},
	{"same host other scheme, default", nil, "app.example:8080", "https://app.example:8080", true, true},
	{"same host other case, default", nil, "App.Example:8080", "https://app.EXAMPLE:8080", true, true},
	{"other port, default", nil, "app.example:8080", "http://app.example:9090", false, false},
	{"other host, default", nil, "app.example:8080", "https://evil.example", false, false},
	{"null origin, default", nil, "app.example:8080", "null", false, false},
	{"star allows any", []string{"*"}, "app.example:8080", "https://evil.example", true, false},
	{"star and listed", []string{"*", "https://web.example"}, "app.example:8080", "https://web.example", true, true},
	{"listed", []string{"https://web.example"}, "app.example:8080", "https://web.example", true, true},
	{"listed, other case", []string{"https://web.example"}, "app.example:8080", "https://WEB.example", true, true},
	{"not listed", []string{"https://web.example"}, "app.example:8080", "https://evil.example", false, false},
	{"list excludes same host", []string{"https://web.example"}, "app.example:8080", "http://app.example:8080", false, false},
}

// originDo sends one request with the case's Host and Origin.
func originDo(t *testing.T, tc originCase, method, url, body string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Host = tc.host
	for k, v := range hdr {
		req.Header[k] = v
	}
	if tc.origin != "" {
		req.Header.Set("Origin", tc.origin)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// checkCORS asserts the CORS answer: headers only for an allowed browser
// origin, credentials only where granted.
func checkCORS(t *testing.T, tc originCase, resp *http.Response) {
	t.Helper()
	if !tc.ok || tc.origin == "" {
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
		return
	}
	assert.Equal(t, tc.origin, resp.Header.Get("Access-Control-Allow-Origin"))
	if tc.creds {
		assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	} else {
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
	}
}

func wantStatus(tc originCase, ok int) int {
	if tc.ok {
		return ok
	}
	return http.StatusForbidden
}

func TestOriginPolicy(t *testing.T) {
	for _, tc := range originCases {
		t.Run(tc.name, func(t *testing.T) {
			srv, base, _ := echoServer(t, Config{AllowedOrigins: tc.allowed})
			refused := 0

			t.Run("polling handshake", func(t *testing.T) {
				resp, body := originDo(t, tc, http.MethodGet, base+"?EIO=4&transport=polling", "", nil)
				assert.Equal(t, wantStatus(tc, http.StatusOK), resp.StatusCode, body)
				checkCORS(t, tc, resp)
				if !tc.ok {
					assert.JSONEq(t, `{"code":4,"message":"Forbidden"}`, body)
				}
			})

			t.Run("preflight", func(t *testing.T) {
				hdr := http.Header{"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}
				resp, _ := originDo(t, tc, http.MethodOptions, base+"?EIO=4&transport=polling", "", hdr)
				assert.Equal(t, wantStatus(tc, http.StatusNoContent), resp.StatusCode)
				checkCORS(t, tc, resp)
			})

			t.Run("polling post and get", func(t *testing.T) {
				sid := handshake(t, base) // no Origin: a non-browser client
				resp, body := originDo(t, tc, http.MethodPost, base+"?EIO=4&transport=polling&sid="+sid, "4hello", nil)
				assert.Equal(t, wantStatus(tc, http.StatusOK), resp.StatusCode, body)
				checkCORS(t, tc, resp)
				if tc.ok {
					assert.Equal(t, "ok", body)
				}
				if !tc.ok {
					// The session is untouched: its own client still echoes.
					status, _ := do(t, http.MethodPost, base+"?EIO=4&transport=polling&sid="+sid, "4hello")
					require.Equal(t, http.StatusOK, status)
				}
				resp, body = originDo(t, tc, http.MethodGet, base+"?EIO=4&transport=polling&sid="+sid, "", nil)
				assert.Equal(t, wantStatus(tc, http.StatusOK), resp.StatusCode, body)
				checkCORS(t, tc, resp)
				if tc.ok {
					assert.Equal(t, "4hello", body)
				}
			})

			t.Run("websocket upgrade", func(t *testing.T) {
				hdr := http.Header{"Host": {tc.host}}
				if tc.origin != "" {
					hdr.Set("Origin", tc.origin)
				}
				ws, resp, err := wsDial("ws"+strings.TrimPrefix(base, "http")+"?EIO=4&transport=websocket", hdr)
				if !tc.ok {
					require.Error(t, err)
					require.NotNil(t, resp)
					assert.Equal(t, http.StatusForbidden, resp.StatusCode)
					return
				}
				require.NoError(t, err)
				defer ws.Close()
				_, open, err := ws.ReadMessage()
				require.NoError(t, err)
				assert.Equal(t, byte('0'), open[0])
			})

			if !tc.ok {
				// handshake, preflight, post, get, upgrade
				refused = 5
			}
			assert.Equal(t, int64(refused), srv.OriginRefused())
		})
	}
}
