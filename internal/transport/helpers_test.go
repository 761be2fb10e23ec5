package transport

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/transport/engineio"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// startServer serves a transport.Server with short heartbeats on loopback.
func startServer(t testing.TB, cfg Config, setup func(*Server)) (*Server, string) {
	t.Helper()
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 300 * time.Millisecond
		cfg.PingTimeout = 200 * time.Millisecond
	}
	srv := NewServer(cfg, zaptest.NewLogger(t))
	setup(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		hs.Close()
	})
	return srv, hs.URL
}

// wsClient is a minimal Socket.IO client over one WebSocket: it answers
// pings and hands every other text packet to the test.
type wsClient struct {
	t    testing.TB
	ws   *sioclient.RawConn
	msgs chan []byte
	bins chan []byte
	done chan struct{}
}

func dial(t testing.TB, url string) *wsClient {
	t.Helper()
	ws, open, err := sioclient.DialEngine(context.Background(), url, sioclient.RawOptions{})
	require.NoError(t, err)
	require.Equal(t, byte(engineio.Open), open[0])
	c := &wsClient{t: t, ws: ws, msgs: make(chan []byte, 1024), bins: make(chan []byte, 64), done: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { _ = ws.Close(); <-c.done })
	return c
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		op, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if op == sioclient.OpBinary {
			c.bins <- data
			continue
		}
		if string(data) == "2" {
			_ = c.ws.WriteMessage(sioclient.OpText, []byte("3"))
			continue
		}
		c.msgs <- data
	}
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteMessage(sioclient.OpText, []byte(s)))
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteMessage(sioclient.OpBinary, b))
}

// next returns the next non-ping text packet, failing after 2 s.
func (c *wsClient) next() []byte {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.done:
		c.t.Fatal("connection closed while waiting for a packet")
	case <-time.After(2 * time.Second):
		c.t.Fatal("no packet within 2s")
	}
	return nil
}

func (c *wsClient) expect(want string) {
	c.t.Helper()
	require.Equal(c.t, want, string(c.next()))
}

// quiet asserts that nothing arrives for d.
func (c *wsClient) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		c.t.Fatalf("unexpected packet %q", m)
	case <-time.After(d):
	}
}

// closed waits until the server ends the connection.
func (c *wsClient) closed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
		c.t.Fatal("connection still open")
	}
}

// join connects to nsp and returns the socket id from the CONNECT reply.
func (c *wsClient) join(nsp string) string {
	c.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix)
	reply := string(c.next())
	require.True(c.t, strings.HasPrefix(reply, prefix+`{"sid":"`), reply)
	return strings.TrimSuffix(strings.TrimPrefix(reply, prefix+`{"sid":"`), `"}`)
}
