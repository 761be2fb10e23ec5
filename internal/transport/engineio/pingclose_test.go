package engineio

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPingTimeoutSendsCloseFrame: a WebSocket session that misses its pong
// is closed with a close frame, not a bare TCP close. A client that is
// alive but broken (it never answers pings) otherwise sees 1006, which it
// cannot tell from a crash of the server; the strict-client checks with
// Node's ws (test/interop/strictclose.test.js) caught it.
func TestPingTimeoutSendsCloseFrame(t *testing.T) {
	_, base, closed := echoServer(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	ws, _, err := wsDial("ws"+strings.TrimPrefix(base, "http")+"?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	defer ws.Close()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(2*time.Second)))
	for {
		_, m, err := ws.ReadMessage() // pings are read and never answered
		if err != nil {
			var ce *sioclient.CloseError
			require.True(t, errors.As(err, &ce), "the session ended without a close frame: %v", err)
			assert.Equal(t, sioclient.CloseNormal, ce.Code)
			break
		}
		require.True(t, string(m) == "2" || strings.HasPrefix(string(m), "0"), "unexpected message %q", m)
	}
	assert.Equal(t, ReasonPingTimeout, <-closed)
}
