package engineio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// echoServer serves a raw Engine.IO echo endpoint; closed reports each
// session's close reason.
func echoServer(t *testing.T, cfg Config) (*Server, string, chan string) {
	t.Helper()
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 300 * time.Millisecond
		cfg.PingTimeout = 200 * time.Millisecond
	}
	closed := make(chan string, 16)
	srv := NewServer(cfg, func(c *Conn) {
		c.OnMessage(func(d []byte, bin bool) { _ = c.Send(d, bin) })
		c.OnClose(func(r string) { closed <- r })
	}, zaptest.NewLogger(t))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		hs.Close()
	})
	return srv, hs.URL + "/engine.io/", closed
}

func handshake(t *testing.T, base string) string {
	t.Helper()
	status, body := do(t, http.MethodGet, base+"?EIO=4&transport=polling", "")
	require.Equal(t, http.StatusOK, status)
	var open struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int      `json:"pingInterval"`
		PingTimeout  int      `json:"pingTimeout"`
		MaxPayload   int      `json:"maxPayload"`
	}
	require.Equal(t, byte('0'), body[0])
	require.NoError(t, json.Unmarshal([]byte(body[1:]), &open))
	require.Len(t, open.SID, 20)
	assert.Equal(t, []string{"websocket"}, open.Upgrades)
	return open.SID
}

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestErrorAnswers(t *testing.T) {
	_, base, _ := echoServer(t, Config{})
	sid := handshake(t, base)
	tests := []struct {
		name, method, query, body string
		status                    int
		want                      string
	}{
		{"missing EIO", "GET", "?transport=polling", "", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO 3", "GET", "?EIO=3&transport=polling", "", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"unknown transport", "GET", "?EIO=4&transport=carrier-pigeon", "", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "?EIO=4&transport=polling&sid=nope", "", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"POST handshake", "POST", "?EIO=4&transport=polling", "4x", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "?EIO=4&transport=websocket", "", 400, `{"code":3,"message":"Bad request"}`},
		{"bad method with sid", "PUT", "?EIO=4&transport=polling&sid=" + sid, "", 400, `{"code":3,"message":"Bad request"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, tt.method, base+tt.query, tt.body)
			assert.Equal(t, tt.status, status)
			assert.JSONEq(t, tt.want, body)
		})
	}
}

func TestPollingBatchesAndBinary(t *testing.T) {
	_, base, _ := echoServer(t, Config{})
	sid := handshake(t, base)
	u := base + "?EIO=4&transport=polling&sid=" + sid
	status, body := do(t, "POST", u, "4hello\x1ebAQIDBA==\x1e4é")
	require.Equal(t, 200, status)
	assert.Equal(t, "ok", body)
	_, body = do(t, "GET", u, "")
	assert.Equal(t, "4hello\x1ebAQIDBA==\x1e4é", body)
}

func TestDuplicateGetEndsSession(t *testing.T) {
	srv, base, closed := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
	sid := handshake(t, base)
	u := base + "?EIO=4&transport=polling&sid=" + sid
	first := make(chan string, 1)
	go func() {
		_, body := do(t, "GET", u, "")
		first <- body
	}()
	require.Eventually(t, func() bool { return srv.pollHeld(sid) }, 2*time.Second, 5*time.Millisecond)
	status, _ := do(t, "GET", u, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "1", <-first)
	assert.Equal(t, ReasonTransportError, <-closed)
	status, _ = do(t, "GET", u, "")
	assert.Equal(t, http.StatusBadRequest, status)
}

func TestAbortedPollEndsSession(t *testing.T) {
	srv, base, closed := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
	sid := handshake(t, base)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"?EIO=4&transport=polling&sid="+sid, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	require.Eventually(t, func() bool { return srv.pollHeld(sid) }, 2*time.Second, 5*time.Millisecond)
	cancel()
	<-done
	select {
	case r := <-closed:
		assert.Equal(t, ReasonTransportClose, r)
	case <-time.After(2 * time.Second):
		t.Fatal("session survived an aborted poll")
	}
}

func TestPayloadTooLarge(t *testing.T) {
	_, base, closed := echoServer(t, Config{MaxPayload: 100})
	sid := handshake(t, base)
	status, _ := do(t, "POST", base+"?EIO=4&transport=polling&sid="+sid, "4"+strings.Repeat("x", 200))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Equal(t, ReasonTransportError, <-closed)

	ws, _, err := wsDial("ws"+strings.TrimPrefix(base, "http")+"?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	defer ws.Close()
	_, _, err = ws.ReadMessage() // open
	require.NoError(t, err)
	require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("4"+strings.Repeat("x", 200))))
	_, _, err = ws.ReadMessage()
	var ce *sioclient.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, sioclient.CloseTooBig, ce.Code)
}

func TestUpgradeReleasesPollAndKeepsOrder(t *testing.T) {
	srv, base, _ := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
	sid := handshake(t, base)
	u := base + "?EIO=4&transport=polling&sid=" + sid
	held := make(chan string, 1)
	go func() {
		_, body := do(t, "GET", u, "")
		held <- body
	}()
	require.Eventually(t, func() bool { return srv.pollHeld(sid) }, 2*time.Second, 5*time.Millisecond)

	ws, _, err := wsDial("ws"+strings.TrimPrefix(base, "http")+"?EIO=4&transport=websocket&sid="+sid, nil)
	require.NoError(t, err)
	defer ws.Close()
	require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("2probe")))
	_, m, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "3probe", string(m))
	assert.Equal(t, "6", <-held)

	// Sent over polling during the switch: echoed after it, on the socket.
	status, _ := do(t, "POST", u, "4during-upgrade")
	require.Equal(t, 200, status)
	require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("5")))
	_, m, err = ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "4during-upgrade", string(m))

	status, _ = do(t, "GET", u, "")
	assert.Equal(t, http.StatusBadRequest, status, "polling after the upgrade")

	// A second WebSocket for the session is closed straight away.
	ws2, _, err := wsDial("ws"+strings.TrimPrefix(base, "http")+"?EIO=4&transport=websocket&sid="+sid, nil)
	require.NoError(t, err)
	defer ws2.Close()
	_, _, err = ws2.ReadMessage()
	assert.Error(t, err)
	// The first one still works.
	require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("4still")))
	_, m, err = ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "4still", string(m))
}

func TestOriginAllowlist(t *testing.T) {
	_, base, _ := echoServer(t, Config{AllowedOrigins: []string{"https://app.example"}})
	req, _ := http.NewRequest("GET", base+"?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	req, _ = http.NewRequest("OPTIONS", base+"?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "content-type", resp.Header.Get("Access-Control-Allow-Headers"))

	h := http.Header{"Origin": {"https://evil.example"}}
	_, _, err = wsDial("ws"+strings.TrimPrefix(base, "http")+"?EIO=4&transport=websocket", h)
	assert.Error(t, err)
}

func TestHeartbeat(t *testing.T) {
	_, base, closed := echoServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	ws, _, err := wsDial("ws"+strings.TrimPrefix(base, "http")+"?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	defer ws.Close()
	_, open, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Contains(t, string(open), `"upgrades":[]`)
	// Answered pings keep the session; then silence ends it.
	for range 3 {
		start := time.Now()
		_, m, err := ws.ReadMessage()
		require.NoError(t, err)
		require.Equal(t, "2", string(m))
		assert.Less(t, time.Since(start), 250*time.Millisecond)
		require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("3")))
	}
	_, m, err := ws.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, "2", string(m))
	select {
	case r := <-closed:
		assert.Equal(t, ReasonPingTimeout, r)
	case <-time.After(time.Second):
		t.Fatal("no ping timeout")
	}
}

func TestPingTimeoutReleasesHeldPollWithClose(t *testing.T) {
	srv, base, closed := echoServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	sid := handshake(t, base)
	u := base + "?EIO=4&transport=polling&sid=" + sid
	_, body := do(t, "GET", u, "")
	require.Equal(t, "2", body) // never answered
	held := make(chan string, 1)
	go func() {
		_, body := do(t, "GET", u, "")
		held <- body
	}()
	require.Eventually(t, func() bool { return srv.pollHeld(sid) }, time.Second, 5*time.Millisecond)
	assert.Equal(t, ReasonPingTimeout, <-closed)
	assert.Equal(t, "1", <-held, "like the reference server, the held poll carries the close")
}
