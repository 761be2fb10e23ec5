package engineio

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// rawWS is sioclient's raw mode with the test's failure handling, for
// what a well-behaved client cannot do: send bytes right behind the
// upgrade request, or break the protocol.
type rawWS struct {
	t  testing.TB
	rc *sioclient.RawConn
}

// dialRaw upgrades base+query and writes extra in the same write as the
// request.
func dialRaw(t testing.TB, base, query string, extra []byte) *rawWS {
	t.Helper()
	rc, _, err := sioclient.DialRaw(context.Background(), base+query, sioclient.RawOptions{Early: extra})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rc.Close() })
	return &rawWS{t: t, rc: rc}
}

func (c *rawWS) write(frames ...[]byte) {
	c.t.Helper()
	require.NoError(c.t, c.rc.WriteRaw(cat(frames...)))
}

// read returns the next frame from the server, which must neither mask
// nor fragment.
func (c *rawWS) read() (byte, string) {
	c.t.Helper()
	require.NoError(c.t, c.rc.SetReadDeadline(time.Now().Add(5*time.Second)))
	f, err := c.rc.ReadFrame()
	require.NoError(c.t, err)
	require.True(c.t, f.Fin && f.RSV == 0 && !f.Masked, "server frame: fin %v, RSV %d, masked %v", f.Fin, f.RSV, f.Masked)
	return f.Op, string(f.Payload)
}

func textFrame(s string) []byte { return clientFrame(true, opText, []byte(s)) }

func TestWebSocketBytesBehindTheRequest(t *testing.T) {
	t.Run("first frame of a WebSocket session", func(t *testing.T) {
		_, base, _ := echoServer(t, Config{})
		c := dialRaw(t, base, "?EIO=4&transport=websocket", textFrame("4early"))
		_, open := c.read()
		assert.True(t, strings.HasPrefix(open, `0{"sid":`), open)
		op, m := c.read()
		assert.Equal(t, opText, op)
		assert.Equal(t, "4early", m)
	})
	t.Run("2probe with the upgrade request", func(t *testing.T) {
		srv, base, _ := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
		sid := handshake(t, base)
		c := dialRaw(t, base, "?EIO=4&transport=websocket&sid="+sid, textFrame("2probe"))
		_, m := c.read()
		require.Equal(t, "3probe", m)
		// "5" and the first message in one write: the message is the
		// session's, read after the switch.
		c.write(textFrame("5"), textFrame("4after"))
		_, m = c.read()
		assert.Equal(t, "4after", m)
		srv.mu.RLock()
		conn := srv.sessions[sid]
		srv.mu.RUnlock()
		require.NotNil(t, conn)
		assert.Equal(t, "websocket", conn.Transport())
	})
}

func TestWebSocketFrames(t *testing.T) {
	tests := []struct {
		name       string
		send       [][]byte
		wantOp     byte
		wantData   string
		wantReason string // "" means the session stays open
	}{
		{name: "ping is answered with pong", send: [][]byte{clientFrame(true, opPing, []byte("hb"))}, wantOp: opPong, wantData: "hb"},
		{name: "fragmented message", send: [][]byte{
			clientFrame(false, opText, []byte("4frag")),
			clientFrame(true, opPong, nil),
			clientFrame(false, opContinuation, []byte("men")),
			clientFrame(true, opContinuation, []byte("ted")),
		}, wantOp: opText, wantData: "4fragmented"},
		{name: "binary message", send: [][]byte{clientFrame(true, opBinary, []byte{0, 1, 2})}, wantOp: opBinary, wantData: "\x00\x01\x02"},
		{name: "close is echoed", send: [][]byte{clientFrame(true, opClose, closePayload(1001, "bye"))},
			wantOp: opClose, wantData: string(closePayload(1001, "")), wantReason: ReasonTransportClose},
		// 1005 means "no code" and must never be sent (RFC 6455 §7.4.1):
		// an empty close is answered with an empty close.
		{name: "close without a code is echoed empty", send: [][]byte{clientFrame(true, opClose, nil)},
			wantOp: opClose, wantData: "", wantReason: ReasonTransportClose},
		{name: "unmasked frame", send: [][]byte{rawFrame(true, opText, []byte("4x"), false)},
			wantOp: opClose, wantData: string(closePayload(1002, "unmasked client frame")), wantReason: ReasonTransportError},
		{name: "RSV bit", send: [][]byte{append([]byte{0xc1}, textFrame("4x")[1:]...)},
			wantOp: opClose, wantData: string(closePayload(1002, "RSV bit set")), wantReason: ReasonTransportError},
		{name: "message over MaxPayload", send: [][]byte{textFrame("4" + strings.Repeat("x", 200))},
			wantOp: opClose, wantData: string(closePayload(1009, "message too big")), wantReason: ReasonTransportError},
		{name: "engine.io parse error", send: [][]byte{textFrame("9")}, wantOp: opClose,
			wantData: string(closePayload(1000, "")), wantReason: ReasonParseError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base, closed := echoServer(t, Config{MaxPayload: 100, PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
			c := dialRaw(t, base, "?EIO=4&transport=websocket", nil)
			c.read() // open
			// Sent one byte per write, so frames arrive split.
			for _, b := range bytewise(cat(tt.send...)) {
				c.write(b)
			}
			op, data := c.read()
			assert.Equal(t, tt.wantOp, op)
			assert.Equal(t, tt.wantData, data)
			if tt.wantReason == "" {
				c.write(textFrame("4still open"))
				_, data = c.read()
				assert.Equal(t, "4still open", data)
				return
			}
			select {
			case r := <-closed:
				assert.Equal(t, tt.wantReason, r)
			case <-time.After(2 * time.Second):
				t.Fatal("session not closed")
			}
		})
	}
}

func TestWebSocketPeerGoneIsTransportClose(t *testing.T) {
	_, base, closed := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
	c := dialRaw(t, base, "?EIO=4&transport=websocket", nil)
	c.read()
	c.write(textFrame("4x")[:3]) // a frame cut short
	require.NoError(t, c.rc.Close())
	select {
	case r := <-closed:
		assert.Equal(t, ReasonTransportClose, r)
	case <-time.After(2 * time.Second):
		t.Fatal("session not closed")
	}
}

// TestIdleWebSocketsHoldNoGoroutines checks that idle sessions, including
// ones upgraded from polling, are watched by the poller rather than by a
// goroutine each, and still get their heartbeats and messages.
func TestIdleWebSocketsHoldNoGoroutines(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the poller is Linux-only")
	}
	const n = 1000
	srv, base, closed := echoServer(t, Config{PingInterval: 500 * time.Millisecond, PingTimeout: 10 * time.Second})
	wsBase := "ws" + strings.TrimPrefix(base, "http")
	before := runtime.NumGoroutine()
	clients := make([]*sioclient.RawConn, 0, n)
	for i := range n {
		var ws *sioclient.RawConn
		var err error
		if i%50 == 0 {
			sid := handshake(t, base)
			ws, _, err = wsDial(wsBase+"?EIO=4&transport=websocket&sid="+sid, nil)
			require.NoError(t, err)
			require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("2probe")))
			_, m, err := ws.ReadMessage()
			require.NoError(t, err)
			require.Equal(t, "3probe", string(m))
			require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("5")))
		} else {
			ws, _, err = wsDial(wsBase+"?EIO=4&transport=websocket", nil)
			require.NoError(t, err)
			_, _, err = ws.ReadMessage() // open
			require.NoError(t, err)
		}
		t.Cleanup(func() { _ = ws.Close() })
		clients = append(clients, ws)
	}
	idle := func() bool { return runtime.NumGoroutine()-before < 50 }
	require.Eventually(t, idle, 10*time.Second, 10*time.Millisecond,
		"%d goroutines before, %d with %d idle sessions", before, runtime.NumGoroutine(), n)
	assert.Equal(t, n, srv.Count())

	for i, ws := range clients {
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, m, err := ws.ReadMessage()
		require.NoError(t, err)
		require.Equal(t, "2", string(m), "client %d", i)
		require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("3")))
		msg := fmt.Sprintf("4message %d", i)
		require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte(msg)))
		for {
			_, m, err = ws.ReadMessage()
			require.NoError(t, err)
			if string(m) != "2" {
				break
			}
			require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("3")))
		}
		require.Equal(t, msg, string(m))
	}
	require.Eventually(t, idle, 10*time.Second, 10*time.Millisecond,
		"%d goroutines before, %d after traffic", before, runtime.NumGoroutine())
	assert.Equal(t, n, srv.Count(), "every session answered its pings")

	// Shut down here, taking the n close reasons off echoServer's channel.
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(ctx)
	}()
	for {
		select {
		case <-closed:
			continue
		case err := <-stopped:
			require.NoError(t, err)
		}
		break
	}
}

// A handler may block (a CONNECT's waits on the database): the read
// buffer it came from is back with the server before it runs.
func TestReadBufferIsReturnedBeforeHandlers(t *testing.T) {
	spare := make(chan int, 1)
	var srv *Server
	srv = NewServer(Config{PingInterval: time.Minute, PingTimeout: time.Minute}, func(c *Conn) {
		c.OnMessage(func([]byte, bool) { spare <- srv.bufs.Spare() })
	}, zaptest.NewLogger(t))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		hs.Close()
	})
	ws, _, err := wsDial("ws"+strings.TrimPrefix(hs.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	_, _, err = ws.ReadMessage() // open
	require.NoError(t, err)
	require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("4hello")))
	select {
	case n := <-spare:
		require.Equal(t, 1, n, "spare read buffers while the handler runs")
	case <-time.After(5 * time.Second):
		t.Fatal("message not handled")
	}
}

// Replies to the messages read before a close frame, or before a frame
// that breaks the protocol, go out before the server's close frame
// (Autobahn 3.2, 4.1.3, 5.15 and 7.1.1: the echo, then the close).
func TestWebSocketRepliesPrecedeTheCloseFrame(t *testing.T) {
	tests := []struct {
		name       string
		send       []byte
		wantClose  string
		wantReason string
	}{
		{name: "close", send: clientFrame(true, opClose, closePayload(1000, "")),
			wantClose: string(closePayload(1000, "")), wantReason: ReasonTransportClose},
		{name: "empty close", send: clientFrame(true, opClose, nil), wantClose: "", wantReason: ReasonTransportClose},
		{name: "RSV bit", send: append([]byte{0xa1}, textFrame("4x")[1:]...),
			wantClose: string(closePayload(1002, "RSV bit set")), wantReason: ReasonTransportError},
		{name: "invalid UTF-8", send: textFrame("4\xff"),
			wantClose: string(closePayload(1007, "invalid UTF-8")), wantReason: ReasonTransportError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Several rounds: the order must not depend on scheduling.
			for range 20 {
				_, base, closed := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
				c := dialRaw(t, base, "?EIO=4&transport=websocket", nil)
				c.read() // open
				c.write(textFrame("4a"), textFrame("4b"), tt.send)
				for _, want := range []string{"4a", "4b"} {
					op, m := c.read()
					require.Equal(t, opText, op, "reply %q before the close frame", want)
					require.Equal(t, want, m)
				}
				op, m := c.read()
				require.Equal(t, opClose, op)
				require.Equal(t, tt.wantClose, m)
				select {
				case r := <-closed:
					require.Equal(t, tt.wantReason, r)
				case <-time.After(2 * time.Second):
					t.Fatal("session not closed")
				}
			}
		})
	}
}
