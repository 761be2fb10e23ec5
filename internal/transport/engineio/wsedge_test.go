//go:build linux

package engineio

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"
)

// queued reports how many bytes wait unread in the socket.
func queued(t testing.TB, nc net.Conn) int {
	raw, err := nc.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var n int
	buf := make([]byte, 64)
	_ = raw.Control(func(fd uintptr) { n, _, _ = unix.Recvfrom(int(fd), buf, unix.MSG_PEEK|unix.MSG_DONTWAIT) })
	return n
}

// The poller reports each batch of bytes once (edge-triggered): a message
// that arrives while the handler of the previous read runs, on the reader
// that must then read it, is answered all the same.
func TestWebSocketMessageArrivingDuringHandling(t *testing.T) {
	entered := make(chan struct{})
	srv := NewServer(Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second}, func(c *Conn) {
		c.OnMessage(func(d []byte, bin bool) {
			if string(d) == "slow" {
				close(entered)
				// Hold the reader until the next message is in the socket.
				assert.Eventually(t, func() bool { return queued(t, c.ws.nc) > 0 }, 5*time.Second, time.Millisecond,
					"the next message never arrived")
			}
			_ = c.Send(d, bin)
		})
	}, zaptest.NewLogger(t))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		hs.Close()
	})
	require.NotNil(t, srv.poll, "the poller drives the socket")
	c := dialRaw(t, hs.URL+"/engine.io/", "?EIO=4&transport=websocket", nil)
	c.read() // open
	c.write(textFrame("4slow"))
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first message was never handled")
	}
	c.write(textFrame("4next"))
	_, m := c.read()
	assert.Equal(t, "4slow", m)
	_, m = c.read()
	assert.Equal(t, "4next", m)
}

// Many small messages with gaps, so the reader goes idle and is woken in
// every interleaving: each is echoed, in order (run with -race).
func TestWebSocketEchoesEveryMessageInOrder(t *testing.T) {
	_, base, _ := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
	c := dialRaw(t, base, "?EIO=4&transport=websocket", nil)
	c.read() // open
	const total = 2000
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		for i := range total {
			if err := c.rc.WriteRaw(textFrame(fmt.Sprintf("4m%d", i))); err != nil {
				return
			}
			if i%7 == 0 {
				time.Sleep(50 * time.Microsecond) // let the reader go idle
			}
		}
	}()
	for i := range total {
		_, m := c.read()
		require.Equal(t, fmt.Sprintf("4m%d", i), m)
	}
}
