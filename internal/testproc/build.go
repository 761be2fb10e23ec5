package testproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

// BuildTimeout bounds one `go build` of the binary.
const BuildTimeout = 3 * time.Minute

// BuildOptions change how the binary is built.
type BuildOptions struct {
	// Tags are build tags, e.g. "conformance" for the protocol test
	// fixture (`dispatchd conformance`), which a plain build leaves out.
	Tags []string
	// NoRace builds without -race even when the test runs with it: for a
	// test of throughput through the real server, which the race
	// detector slows several times; the server's races are other tests'.
	NoRace bool
}

// Build builds ./cmd/dispatchd of the module around the working directory
// into dir and returns the binary's path. When the calling test binary was
// built with -race the server gets it too, so a race inside the server
// fails the test (exit status 66). It takes no testing.TB so that a
// TestMain can build once for a whole package.
func Build(ctx context.Context, dir string) (string, error) {
	return BuildWith(ctx, dir, BuildOptions{})
}

// BuildWith is Build with options.
func BuildWith(ctx context.Context, dir string, opts BuildOptions) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dispatchd")
	args := []string{"build", "-o", bin}
	if RaceEnabled() && !opts.NoRace {
		args = append(args, "-race")
	}
	if len(opts.Tags) > 0 {
		args = append(args, "-tags", strings.Join(opts.Tags, ","))
	}
	args = append(args, "./cmd/dispatchd")
	ctx, cancel := context.WithTimeout(ctx, BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// BuildT builds the binary into a temporary directory of t.
func BuildT(t testing.TB) string {
	t.Helper()
	return BuildTWith(t, BuildOptions{})
}

// BuildTWith is BuildT with options.
func BuildTWith(t testing.TB, opts BuildOptions) string {
	t.Helper()
	start := time.Now()
	bin, err := BuildWith(context.Background(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built dispatchd (race: %t, tags: %q) in %s", RaceEnabled() && !opts.NoRace, opts.Tags, time.Since(start).Round(time.Millisecond))
	return bin
}

// RaceEnabled reports whether the running binary was built with -race.
func RaceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// ModuleRoot is the nearest directory at or above the working directory
// that holds go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// ChildEnv is this process's environment without any DISPATCH_ setting
// (a developer's DISPATCH_CONFIG or DISPATCH_DATABASE_URL must not leak
// into the server under test), plus extra.
func ChildEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "DISPATCH_") })
	return append(env, extra...)
}
