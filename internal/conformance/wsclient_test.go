package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frame is one WebSocket message.
type frame struct {
	binary bool
	data   []byte
}

func (f frame) String() string {
	if f.binary {
		return fmt.Sprintf("binary [% x]", f.data)
	}
	return fmt.Sprintf("text %q", f.data)
}

func text(s string) frame    { return frame{data: []byte(s)} }
func binary(b ...byte) frame { return frame{binary: true, data: b} }

// wsClient buffers every frame the server sends, like the suites'
// createWebSocket, so a test reads them in order at its own pace.
type wsClient struct {
	t      testing.TB
	conn   *sioclient.RawConn
	frames chan frame
	closed chan struct{} // closed by the reader when the connection ends
	err    error         // why it ended; read only after closed
}

// dialWS opens a WebSocket on path with the raw query and fails the test if
// the upgrade is refused.
func (s *server) dialWS(path, query string) *wsClient {
	s.t.Helper()
	c, resp, err := s.tryDialWS(path, query)
	if resp != nil {
		defer resp.Body.Close()
	}
	require.NoError(s.t, err, "websocket %s?%s", path, query)
	return c
}

// tryDialWS opens a WebSocket and returns the HTTP reply when the upgrade is
// refused.
func (s *server) tryDialWS(path, query string) (*wsClient, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	conn, resp, err := sioclient.DialRaw(ctx, s.wsURL(path, query), sioclient.RawOptions{Timeout: caseTimeout})
	if err != nil {
		return nil, resp, err
	}
	c := &wsClient{
		t:      s.t,
		conn:   conn,
		frames: make(chan frame, 256),
		closed: make(chan struct{}),
	}
	go c.readLoop()
	s.t.Cleanup(func() {
		_ = conn.Close()
		<-c.closed
	})
	return c, resp, nil
}

func (c *wsClient) readLoop() {
	defer close(c.closed)
	for {
		op, data, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		select {
		case c.frames <- frame{binary: op == sioclient.OpBinary, data: data}:
		default:
			c.err = errors.New("test client: frame buffer full")
			return
		}
	}
}

// next returns the next frame, failing the test if none arrives within
// timeout or the connection ends first.
func (c *wsClient) next(timeout time.Duration) frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	default:
	}
	select {
	case f := <-c.frames:
		return f
	case <-c.closed:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("connection ended while waiting for a frame: %v", c.err)
	case <-time.After(timeout):
		c.t.Fatalf("no frame within %s", timeout)
	}
	return frame{}
}

// nextText returns the next frame, which must be text.
func (c *wsClient) nextText(timeout time.Duration) string {
	c.t.Helper()
	f := c.next(timeout)
	require.False(c.t, f.binary, "want a text frame, got %s", f)
	return string(f.data)
}

// nextSkippingPings returns the next frame that is not an Engine.IO ping,
// answering each ping with a pong so the session stays up.
func (c *wsClient) nextSkippingPings(timeout time.Duration) frame {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f := c.next(time.Until(deadline))
		if !f.binary && string(f.data) == "2" {
			c.send("3")
			continue
		}
		return f
	}
}

// expect reads frames, ignoring pings, and requires them to equal want.
func (c *wsClient) expect(want ...frame) {
	c.t.Helper()
	for i, w := range want {
		got := c.nextSkippingPings(caseTimeout)
		assert.Equal(c.t, w.binary, got.binary, "frame %d: want %s, got %s", i, w, got)
		assert.Equal(c.t, string(w.data), string(got.data), "frame %d: want %s, got %s", i, w, got)
	}
}

// send writes one text frame.
func (c *wsClient) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(sioclient.OpText, []byte(s)), "send %q", s)
}

// sendBinary writes one binary frame.
func (c *wsClient) sendBinary(b ...byte) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(sioclient.OpBinary, b), "send % x", b)
}

// waitClosed requires the server to end the connection within timeout.
// Frames still buffered (pings, replies) are discarded.
func (c *wsClient) waitClosed(timeout time.Duration) {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(timeout):
		c.t.Fatalf("connection still open after %s", timeout)
	}
}
