//go:build unix

package interop

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// partialAcksFile is the node:test file of a client that acks one of its
// event types only; TestInterop leaves it out (it needs the real binary).
const partialAcksFile = "partialacks.test.js"

// TestPartialAcks runs partialacks.test.js against a fresh dispatchd
// process: a stock socket.io-client vendor with a handler for
// order:delivered only (so it never acks order:status) gets the
// order:delivered of all 1,000 orders. Before acks were cumulative it
// stalled after the first window (64 events, about 11 orders). The rate
// limit is lifted: the test drives 5,000 client events as fast as the
// server answers, and the server is built without -race, which would make
// that take minutes (the server's races are the other tests' job).
func TestPartialAcks(t *testing.T) {
	node := requireNode(t)
	bin := testproc.BuildTWith(t, testproc.BuildOptions{NoRace: true})
	secret := testproc.RandomHex(t, 32)
	srv := testproc.Start(t, bin, "DISPATCH_JWT_SECRET="+secret, "DISPATCH_DATA_DIR="+t.TempDir(),
		"DISPATCH_LOG_LEVEL=warn", "DISPATCH_EVENTS_PER_SECOND=1000000", "DISPATCH_EVENT_BURST=1000000")
	drivers := make([]string, 8)
	for i := range drivers {
		drivers[i] = testproc.Sign(t, secret, "acme", orders.RoleDriver, fmt.Sprintf("d%d", i))
	}
	tokens, err := json.Marshal(map[string]any{
		"vendor":  testproc.Sign(t, secret, "acme", orders.RoleVendor, "v1"),
		"drivers": drivers,
	})
	require.NoError(t, err)
	start := time.Now()
	runNode(t, node, []string{"--test", "--test-reporter=spec", partialAcksFile},
		"SERVER_URL="+srv.URL, "TOKENS="+string(tokens))
	t.Logf("1,000 orders in %s", time.Since(start).Round(time.Millisecond))
	srv.Stop(t)
}
