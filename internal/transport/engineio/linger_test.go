package engineio

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFrameErrorCloseSurvivesTheRest: when the server refuses a frame
// (here one over MaxPayload) while the client is still sending it, the
// client must be able to finish sending and read the close frame (1009).
// Closing the socket with the rest of the frame unread made the kernel
// answer with a reset: the client's write failed, and Node's ws, which
// handles that failure before reading what came in, dropped the close frame
// and saw 1006 (test/interop/strictclose.test.js on a loaded machine).
func TestFrameErrorCloseSurvivesTheRest(t *testing.T) {
	_, base, _ := echoServer(t, Config{MaxPayload: 1000})
	big := textFrame("4" + strings.Repeat("x", 1<<20)) // within lingerMaxBytes
	for i := range 10 {
		c := dialRaw(t, base, "?EIO=4&transport=websocket", nil)
		c.read() // open
		sent := make(chan error, 1)
		go func() {
			// In pieces, as ws and gorilla write, so that the client is
			// still writing when the server has answered.
			for b := big; len(b) > 0; b = b[min(len(b), 4096):] {
				if err := c.rc.WriteRaw(b[:min(len(b), 4096)]); err != nil {
					sent <- err
					return
				}
			}
			sent <- nil
		}()
		op, payload := c.read()
		assert.Equal(t, opClose, op)
		assert.Equal(t, string(closePayload(1009, "message too big")), payload)
		assert.NoError(t, <-sent, "try %d: the server reset the connection under the client's write", i)
		_ = c.rc.Close()
	}
}
