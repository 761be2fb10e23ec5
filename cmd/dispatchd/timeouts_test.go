package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Short timeouts so that the tests take about a second.
const (
	testReadTimeout = 400 * time.Millisecond
	testIdleTimeout = 400 * time.Millisecond
	// cutMargin is how late a cut may come on a busy machine.
	cutMargin = time.Second
)

var timeoutEnv = map[string]string{
	"DISPATCH_JWT_SECRET":          "a-secret-of-at-least-32-bytes!!!",
	"DISPATCH_READ_HEADER_TIMEOUT": "200ms",
	"DISPATCH_READ_TIMEOUT":        testReadTimeout.String(),
	"DISPATCH_IDLE_TIMEOUT":        testIdleTimeout.String(),
	// A long poll and a WebSocket's silence last longer than the read timeout.
	"DISPATCH_PING_INTERVAL": "1200ms",
	"DISPATCH_PING_TIMEOUT":  "1s",
}

// waitClosed reads c until the server closes it and returns how long that
// took; it fails the test if c is still open after limit.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	require.NoError(t, c.SetReadDeadline(start.Add(limit)))
	_, err := io.Copy(io.Discard, c) // a 4xx answer may come first
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		require.FailNow(t, "connection still open", "after %s", limit)
	}
	return time.Since(start)
}

// TestReadTimeoutCutsTrickledBody is the slowloris case: a REST body sent
// a byte at a time, slower than the read timeout allows, is cut.
func TestReadTimeoutCutsTrickledBody(t *testing.T) {
	s := start(t, timeoutEnv, "serve", "--addr", "127.0.0.1:0")
	tok, err := runToken(t, timeoutEnv, "--tenant", "acme", "--role", "vendor", "--sub", "v1")
	require.NoError(t, err)

	c, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer c.Close()
	begin := time.Now()
	_, err = io.WriteString(c, "POST /api/v1/orders HTTP/1.1\r\nHost: "+s.addr+"\r\n"+
		"Authorization: Bearer "+tok+"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	require.NoError(t, err)
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	waitClosed(t, c, testReadTimeout+cutMargin)
	close(stop)
	<-trickled
	took := time.Since(begin)
	assert.GreaterOrEqual(t, took, testReadTimeout-50*time.Millisecond, "cut before the read timeout")
	t.Logf("trickled body cut after %s (read timeout %s)", took.Round(time.Millisecond), testReadTimeout)

	_, body := get(t, "http://"+s.addr+"/metrics")
	assert.Contains(t, body, "dispatchd_http_read_timeouts_total 1")
}

// TestIdleTimeoutClosesKeepAlive: a keep-alive connection with no next
// request is closed after the idle timeout.
func TestIdleTimeoutClosesKeepAlive(t *testing.T) {
	s := start(t, timeoutEnv, "serve", "--addr", "127.0.0.1:0")
	c, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+s.addr+"\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.False(t, resp.Close, "the server must keep the connection alive")

	took := waitClosed(t, c, testIdleTimeout+cutMargin)
	assert.GreaterOrEqual(t, took, testIdleTimeout-50*time.Millisecond)
	t.Logf("idle connection closed after %s (idle timeout %s)", took.Round(time.Millisecond), testIdleTimeout)
}

// TestLongPollOutlivesReadTimeout: the read timeout bounds reading a
// request, not holding its answer: a polling GET held for the whole ping
// interval, three times the read timeout, still gets the ping.
func TestLongPollOutlivesReadTimeout(t *testing.T) {
	s := start(t, timeoutEnv, "serve", "--addr", "127.0.0.1:0")
	base := "http://" + s.addr + "/socket.io/?EIO=4&transport=polling"
	code, open := get(t, base)
	require.Equal(t, http.StatusOK, code)
	sid := sidOf(t, open)

	begin := time.Now()
	code, body := get(t, base+"&sid="+sid)
	took := time.Since(begin)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "2", body, "the held GET answers with the server's ping")
	assert.Greater(t, took, testReadTimeout)
	t.Logf("long poll answered after %s (read timeout %s)", took.Round(time.Millisecond), testReadTimeout)
}

// TestIdleWebSocketOutlivesReadTimeout: a hijacked WebSocket keeps no read
// deadline from the HTTP server; it lives on heartbeats alone.
func TestIdleWebSocketOutlivesReadTimeout(t *testing.T) {
	s := start(t, timeoutEnv, "serve", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, _, err := sioclient.DialRaw(ctx, "ws://"+s.addr+"/socket.io/?EIO=4&transport=websocket", sioclient.RawOptions{})
	require.NoError(t, err)
	defer ws.Close()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(waitTimeout)))
	_, open, err := ws.ReadMessage()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(open), "0{"))

	// Silent from the client for more than the read timeout, twice.
	for range 2 {
		begin := time.Now()
		_, p, err := ws.ReadMessage()
		require.NoError(t, err)
		require.Equal(t, "2", string(p))
		require.Greater(t, time.Since(begin), testReadTimeout)
		require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("3")))
	}
	require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("40")))
	_, p, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(p), "40{"), "connect reply: %q", p)
}

// sidOf reads the session id from a polling handshake's open packet.
func sidOf(t *testing.T, open string) string {
	t.Helper()
	var hs struct {
		SID string `json:"sid"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(open, "0")), &hs))
	require.NotEmpty(t, hs.SID)
	return hs.SID
}
