//go:build unix

package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// storyFile is the node:test file of the dispatch story, redeliveryFile
// the durable queue seen by the stock client. TestInterop leaves them
// out: they need the real binary, not the transport fixture.
const (
	storyFile      = "story.test.js"
	redeliveryFile = "redelivery.test.js"
)

// TestDispatchStory builds the dispatchd binary, runs it as a real process
// (once on SQLite, once on PostgreSQL when DISPATCH_TEST_DATABASE_URL is
// set) and plays the whole dispatch story against it with the npm
// socket.io-client: tenant A's vendor posts an order, 50 drivers race for
// it, the winner delivers it while the customer watches, and tenant B's
// clients, connected all along, hear nothing of it. Then tenant E runs the
// business's chapters: drivers on duty at positions, the customer sees the
// courier approach with a falling ETA, a PIN delivery, and a customer
// absent that ends in failed. Tenant N's order goes to the nearest drivers
// ring by ring: the nearest accepts and delivers by PIN, and a ring that
// declines passes the next order on to the next ring at once.
func TestDispatchStory(t *testing.T) {
	node := requireNode(t)
	bin := testproc.BuildT(t)

	t.Run("sqlite", func(t *testing.T) {
		runStory(t, node, bin, "")
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("DISPATCH_TEST_DATABASE_URL")
		if base == "" {
			t.Skip("DISPATCH_TEST_DATABASE_URL is not set: the PostgreSQL story needs a server")
		}
		runStory(t, node, bin, testproc.FreshSchema(t, base, "story"))
	})
}

// runStory starts a fresh server (databaseURL empty: SQLite in a temporary
// data directory), runs story.test.js against it, then stops it with
// SIGTERM, which must end in a clean exit.
func runStory(t *testing.T, node, bin, databaseURL string) {
	secret := testproc.RandomHex(t, 32)
	env := []string{
		"DISPATCH_JWT_SECRET=" + secret,
		"DISPATCH_DATA_DIR=" + t.TempDir(),
		"DISPATCH_LOG_LEVEL=warn",
	}
	if databaseURL != "" {
		env = append(env, "DISPATCH_DATABASE_URL="+databaseURL)
	}
	start := time.Now()
	srv := testproc.Start(t, bin, env...)
	t.Logf("dispatchd ready at %s after %s", srv.URL, time.Since(start).Round(time.Millisecond))

	tokens, err := json.Marshal(storyTokens(t, bin, secret))
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, node, []string{"--test", "--test-reporter=spec", storyFile, redeliveryFile},
		"SERVER_URL="+srv.URL, "TOKENS="+string(tokens))
	// Every client is gone: SIGTERM must now end in a quick, clean exit.
	srv.Stop(t)
}

// storyTokens mints a token for every user of the story, keyed
// "<tenant key>.<role>.<n>" ("A.driver.7", "B.vendor.1"); story.test.js
// reads the tenant and user ids back from the tokens' claims. Tenant and
// user ids are random per run, so the isolation checks search for strings
// nothing else could contain. Tenant A's 50 drivers are signed in process
// with testproc.Sign (auth.Sign); everyone else comes from `dispatchd token`, so the
// subcommand and the server must agree on the secret for the story to run.
func storyTokens(t *testing.T, bin, secret string) map[string]string {
	t.Helper()
	cast := []struct {
		key, tenant, users              string
		drivers, customers, dispatchers int
		signDrivers                     bool // sign in process instead of running the subcommand
	}{
		{key: "A", tenant: "alpha-" + testproc.RandomHex(t, 3), users: "a" + testproc.RandomHex(t, 3), drivers: 50, customers: 3, signDrivers: true},
		{key: "B", tenant: "bravo-" + testproc.RandomHex(t, 3), users: "b" + testproc.RandomHex(t, 3), drivers: 3, customers: 1},
		{key: "C", tenant: "charlie-" + testproc.RandomHex(t, 3), users: "c" + testproc.RandomHex(t, 3), drivers: 2, signDrivers: true},
		// E: the delivery business chapters (ETA, PIN, customer absent).
		{key: "E", tenant: "echo-" + testproc.RandomHex(t, 3), users: "e" + testproc.RandomHex(t, 3), drivers: 3, customers: 2, signDrivers: true},
		// N: the nearest strategy's rings (five drivers near the pickup, one
		// far), with a dispatcher whose board shows what the fleet knows.
		{key: "N", tenant: "november-" + testproc.RandomHex(t, 3), users: "n" + testproc.RandomHex(t, 3), drivers: 6, customers: 1, dispatchers: 1, signDrivers: true},
	}
	tokens := make(map[string]string)
	start := time.Now()
	cli := 0
	for _, c := range cast {
		mint := func(role orders.Role, n int, signInProcess bool) {
			sub := fmt.Sprintf("%s-%s-%d", c.users, role, n)
			label := fmt.Sprintf("%s.%s.%d", c.key, role, n)
			if !signInProcess {
				tokens[label] = testproc.MintToken(t, bin, secret, c.tenant, string(role), sub)
				cli++
				return
			}
			tokens[label] = testproc.Sign(t, secret, c.tenant, role, sub)
		}
		mint(orders.RoleVendor, 1, false)
		for i := 1; i <= c.customers; i++ {
			mint(orders.RoleCustomer, i, false)
		}
		for i := 1; i <= c.drivers; i++ {
			mint(orders.RoleDriver, i, c.signDrivers)
		}
		for i := 1; i <= c.dispatchers; i++ {
			mint(orders.RoleDispatcher, i, true)
		}
	}
	t.Logf("minted %d tokens (%d by `dispatchd token`) in %s", len(tokens), cli, time.Since(start).Round(time.Millisecond))
	return tokens
}
