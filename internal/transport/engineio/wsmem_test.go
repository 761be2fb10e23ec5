package engineio

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testMaskKey is announce's: its frames are built by hand, always with a
// 64-bit length, which sioclient's encoder would not choose.
var testMaskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// announce is a masked frame header claiming n payload bytes, followed by
// the first few of them: 16 bytes that promise n.
func announce(op byte, fin bool, n int, first []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0, 0x80 | 127}
	b = binary.BigEndian.AppendUint64(b, uint64(n))
	b = append(b, testMaskKey[:]...)
	return unmaskAt(b, first, testMaskKey, 0) // masked: XOR is its own inverse
}

// The parser's memory follows the bytes received, never what a header
// announces: a header promising MaxPayload bytes costs only what came.
func TestWSParserRetainsOnlyBytesReceived(t *testing.T) {
	const limit = 1_000_000
	tests := []struct {
		name string
		give []byte
	}{
		{name: "text frame", give: announce(opText, true, limit, []byte("4x"))},
		{name: "binary frame", give: announce(opBinary, true, limit, []byte{1, 2})},
		{name: "first fragment", give: announce(opText, false, limit, []byte("4x"))},
		{name: "continuation", give: cat(clientFrame(false, opText, []byte("4a")), announce(opContinuation, true, limit-2, []byte("bc")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunks := range [][][]byte{{tt.give}, bytewise(tt.give)} {
				p := wsParser{max: limit}
				for _, c := range chunks {
					require.NoError(t, p.feed(c, func(byte, []byte) bool { return true }))
				}
				assert.Less(t, parserRetained(&p), 4<<10, "bytes held after %d bytes received", len(tt.give))
			}
		})
	}
}

// parserRetained is the capacity of every buffer the parser keeps.
func parserRetained(p *wsParser) int { return cap(p.msg) + cap(p.ctrl) }

// The finding: 16 bytes sent on a WebSocket cost ~1 MB of heap each. Every
// connection here sends a header announcing MaxPayload bytes and two of
// them, then hangs up; what the process allocated per connection, upgrade
// and client side included, stays small.
func TestWebSocketHeaderAloneAllocatesLittle(t *testing.T) {
	const conns = 20
	_, base, closed := echoServer(t, Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range conns {
		c := dialRaw(t, base, "?EIO=4&transport=websocket", nil)
		c.read() // open
		c.write(announce(opText, true, 1_000_000, []byte("4x")))
		require.NoError(t, c.rc.Close())
		// The peer's hang-up is read after the 16 bytes: once the session
		// is closed, they were parsed.
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("session not closed")
		}
	}
	runtime.ReadMemStats(&after)
	perConn := (after.TotalAlloc - before.TotalAlloc) / conns
	t.Logf("%d bytes allocated per connection", perConn)
	assert.Less(t, perConn, uint64(64<<10), "bytes allocated per connection")
}
