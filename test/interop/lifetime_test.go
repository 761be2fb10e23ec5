//go:build unix

package interop

import (
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// lifetimeFile is the node:test file of token lifetime on live sockets;
// TestInterop leaves it out (it needs the real binary).
const lifetimeFile = "lifetime.test.js"

// TestTokenLifetime runs lifetime.test.js against a fresh dispatchd
// process whose sockets are warned 1 s before their token's exp
// (auth.expiring_lead): with the stock socket.io-client, a driver app that
// answers auth:expiring with auth:refresh stays connected across three
// expiries and keeps receiving pickups; one that does not is cut off at
// exp (± 1 s), over WebSocket and over long-polling. The script signs its short tokens itself (exp 3 s ahead),
// as an app's backend would, with the server's secret; the server checks
// exp with no leeway.
func TestTokenLifetime(t *testing.T) {
	node := requireNode(t)
	bin := testproc.BuildT(t)
	secret := testproc.RandomHex(t, 32)
	srv := testproc.Start(t, bin, "DISPATCH_JWT_SECRET="+secret, "DISPATCH_DATA_DIR="+t.TempDir(),
		"DISPATCH_LOG_LEVEL=warn", "DISPATCH_AUTH_EXPIRING_LEAD=1s")
	start := time.Now()
	runNode(t, node, []string{"--test", "--test-reporter=spec", lifetimeFile},
		"SERVER_URL="+srv.URL, "JWT_SECRET="+secret, "TENANT=life-"+testproc.RandomHex(t, 3))
	t.Logf("token lifetime story in %s", time.Since(start).Round(time.Millisecond))
	srv.Stop(t)
}
