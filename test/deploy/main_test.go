package deploy

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// bin is the dispatchd binary and root the module root, both set once by
// TestMain and only read afterwards.
var bin, root string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	var err error
	if root, err = testproc.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "dispatchd-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if bin, err = testproc.Build(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// repoFile is the path of a file given relative to the module root.
func repoFile(name string) string {
	return filepath.Join(root, filepath.FromSlash(name))
}

// dispatchd runs the binary with exactly env as its environment and
// returns its stdout; a non-zero exit is an error carrying the output.
func dispatchd(t testing.TB, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = root
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("dispatchd %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// envNames is the set of environment variables dispatchd reads, as the
// binary itself lists them.
func envNames(t testing.TB) map[string]bool {
	t.Helper()
	out, err := dispatchd(t, nil, "config", "env")
	require.NoError(t, err)
	names := map[string]bool{}
	for _, n := range strings.Fields(out) {
		names[n] = true
	}
	require.Contains(t, names, "DISPATCH_NATS_URL", "config env output: %s", out)
	return names
}
