//go:build unix

// Package interop drives dispatchd with the real npm socket.io-client:
// interop_test.go starts Go transport servers and runs the node:test files in
// this directory against them (fixture_test.go holds the handlers those files
// call); story_test.go builds and starts the real dispatchd binary and runs
// story.test.js, the whole dispatch story, against it.
//
// Setup: `npm ci` in test/interop. Without DISPATCH_TEST_INTEROP the test is
// skipped when node_modules is missing; with DISPATCH_TEST_INTEROP=1 a missing
// node or node_modules is a failure.
package interop

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/testproc"
	"github.com/dispatchd/dispatchd/internal/transport"
	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// nodeTimeout bounds the whole node run; each JS test also has its own
// timeout, far below this.
const nodeTimeout = 4 * time.Minute

func TestInterop(t *testing.T) {
	node := requireNode(t)

	mainURL := startServer(t, transport.Config{})
	// pingInterval and pingTimeout are per server: the heartbeat tests get a
	// second one with settings short enough to watch several heartbeats.
	heartbeatURL := startServer(t, transport.Config{Config: engineio.Config{
		PingInterval: 200 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
	}})

	files, err := filepath.Glob("*.test.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.test.js files in test/interop (glob error: %v)", err)
	}
	// These run against the real binary, from TestDispatchStory,
	// TestPartialAcks and TestTokenLifetime.
	files = slices.DeleteFunc(files, func(f string) bool {
		return f == storyFile || f == redeliveryFile || f == partialAcksFile || f == lifetimeFile
	})
	args := append([]string{"--test", "--test-reporter=spec"}, files...)
	env := append([]string{"SERVER_URL=" + mainURL, "HEARTBEAT_SERVER_URL=" + heartbeatURL}, strictServers(t)...)
	runNode(t, node, args, env...)
}

// requireNode returns the node binary, skipping or failing as described in
// the package comment.
func requireNode(t *testing.T) string {
	t.Helper()
	optedIn := os.Getenv("DISPATCH_TEST_INTEROP") != ""
	version, modErr := clientVersion()
	if modErr != nil && !optedIn {
		t.Skip("interop tests skipped: socket.io-client is not installed (run `npm ci` in test/interop, or set DISPATCH_TEST_INTEROP=1 to require them)")
	}
	if modErr != nil {
		t.Fatalf("DISPATCH_TEST_INTEROP is set but the npm client is missing: run `npm ci` in test/interop: %v", modErr)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("test/interop/node_modules is installed but node is not in PATH: %v", err)
	}
	t.Logf("socket.io-client %s, node %s", version, node)
	return node
}

// clientVersion reads the version of the installed socket.io-client.
func clientVersion() (string, error) {
	raw, err := os.ReadFile(filepath.Join("node_modules", "socket.io-client", "package.json"))
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return "", err
	}
	return pkg.Version, nil
}

// runNode runs node with args in this directory, streams its combined output
// through t.Log line by line, and fails t when node exits non-zero or
// overruns nodeTimeout.
func runNode(t *testing.T, node string, args []string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), nodeTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(), append(env, "NO_COLOR=1")...)
	// node --test runs each file in a child process: kill the whole group on
	// timeout so no client is left dialling the servers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	out, flush := testproc.LogLines(t, "", nil)
	cmd.Stdout = out
	cmd.Stderr = out

	start := time.Now()
	err := cmd.Run()
	flush() // Run has returned: nothing writes to out any more

	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("node --test did not finish within %s (killed): %v", nodeTimeout, err)
	case err != nil:
		t.Fatalf("node --test failed after %s: %v (see its output above)", time.Since(start).Round(time.Millisecond), err)
	}
	t.Logf("node --test passed in %s", time.Since(start).Round(time.Millisecond))
}
