//go:build unix

package suites

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // git's object ids are SHA-1; this is an identity check, not security
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// upstreamURL is the base URL the suites hard-code; it is the one thing the
// runner rewrites, in a copy.
const upstreamURL = `const URL = "http://localhost:3000";`

// Bounds of one run; the suites take about 4 s each.
const (
	suiteTimeout = 2 * time.Minute
	readyTimeout = 20 * time.Second
	stopTimeout  = 5 * time.Second
)

// suite is one vendored folder and what a full pass of it is.
type suite struct {
	dir   string
	cases int // every `it(` of test-suite.js
	// blobs are the git object ids of the vendored files at upstream commit
	// d2d753fed4435015c2d83fe62e676b44e07fa3f7: a changed file is no longer
	// the official suite.
	blobs map[string]string
}

var suitesUnderTest = []suite{
	{
		dir:   "engine.io-v4",
		cases: 25,
		blobs: map[string]string{
			"test-suite.js":     "be67939d0914bef24157e73763da252ae4a00d18",
			"node-imports.js":   "fc509aadfe62eaf1691dd956fbe7867d6289a545",
			"package.json":      "593c260f857fcf74980d293d772bf393a1b75733",
			"package-lock.json": "00ae12fe3167c8e63024577b914995c35cdb367b",
			"LICENSE":           "f05f604fef5b26c225df2a4ad6d0dcc66dbf45b0",
			".gitignore":        "3c3629e647f5ddf82548912e337bea9826b434af",
		},
	},
	{
		dir:   "socket.io-v5",
		cases: 32,
		blobs: map[string]string{
			"test-suite.js":     "a00e433ddbf824875864ea425748960e9986bb99",
			"node-imports.js":   "fc509aadfe62eaf1691dd956fbe7867d6289a545",
			"package.json":      "6750220035836d79a909f0e6a994dcf50e478919",
			"package-lock.json": "68c89f588b4f6ba0fc1683b53c4f12c740fadff8",
			"LICENSE":           "f05f604fef5b26c225df2a4ad6d0dcc66dbf45b0",
			".gitignore":        "3c3629e647f5ddf82548912e337bea9826b434af",
		},
	},
}

// TestOfficialSuites starts `dispatchd conformance` once and runs both
// suites against it with mocha.
func TestOfficialSuites(t *testing.T) {
	for _, s := range suitesUnderTest {
		checkVendored(t, s)
	}
	node := requireNode(t)
	// The fixture is linked only into a binary built with this tag.
	bin := testproc.BuildTWith(t, testproc.BuildOptions{Tags: []string{"conformance"}})
	url := startConformance(t, bin)
	for _, s := range suitesUnderTest {
		t.Run(s.dir, func(t *testing.T) {
			runSuite(t, node, s, url)
		})
	}
}

// checkVendored fails when a vendored file differs from upstream.
func checkVendored(t *testing.T, s suite) {
	t.Helper()
	for name, want := range s.blobs {
		raw, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			t.Fatalf("vendored suite: %v", err)
		}
		if got := gitBlobID(raw); got != want {
			t.Errorf("%s/%s is not the upstream file: git blob %s, want %s", s.dir, name, got, want)
		}
	}
}

// gitBlobID is the id `git hash-object` gives content.
func gitBlobID(content []byte) string {
	h := sha1.New() //nolint:gosec // see the import
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// requireNode returns the node binary, skipping or failing as described in
// the package comment.
func requireNode(t *testing.T) string {
	t.Helper()
	optedIn := os.Getenv("DISPATCH_TEST_INTEROP") != ""
	for _, s := range suitesUnderTest {
		if _, err := os.Stat(mochaPath(s)); err != nil {
			if !optedIn {
				t.Skipf("official suites skipped: %s/node_modules is not installed (run `npm ci` there, or set DISPATCH_TEST_INTEROP=1 to require them)", s.dir)
			}
			t.Fatalf("DISPATCH_TEST_INTEROP is set but mocha is missing: run `npm ci` in test/suites/%s: %v", s.dir, err)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the suites' node_modules are installed but node is not in PATH: %v", err)
	}
	return node
}

func mochaPath(s suite) string {
	return filepath.Join(s.dir, "node_modules", "mocha", "bin", "mocha")
}

// startConformance runs `dispatchd conformance` on a port the kernel picks
// and returns its base URL, read from the "listening" log line. At cleanup
// it must stop on SIGTERM with exit 0, having logged no error.
func startConformance(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "conformance", "--addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "info")
	cmd.Env = testproc.ChildEnv()
	addrs := make(chan string, 1)
	var problems []string // written by the logging goroutine, read after flush
	out, flush := testproc.LogLines(t, "dispatchd: ", func(line string) {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Addr  string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil {
			// Not a log entry: the race detector or a panic.
			problems = append(problems, line)
			return
		}
		switch {
		case entry.Msg == "listening":
			addrs <- entry.Addr
		case entry.Level == "error", entry.Level == "dpanic", entry.Level == "panic", entry.Level == "fatal":
			problems = append(problems, line)
		}
	})
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		flush()
		t.Fatalf("start dispatchd conformance: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		start := time.Now()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("dispatchd conformance did not exit cleanly after SIGTERM: %v", err)
			} else {
				t.Logf("dispatchd conformance exited 0 %s after SIGTERM", time.Since(start).Round(time.Millisecond))
			}
		case <-time.After(stopTimeout):
			t.Errorf("dispatchd conformance still running %s after SIGTERM; killing it", stopTimeout)
			_ = cmd.Process.Kill()
			<-exited
		}
		flush()
		if len(problems) > 0 {
			t.Errorf("dispatchd conformance reported %d problem(s):\n%s", len(problems), strings.Join(problems, "\n"))
		}
	})
	select {
	case addr := <-addrs:
		return "http://" + addr
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("dispatchd conformance exited before listening: %v (see its output above)", err)
	case <-time.After(readyTimeout):
		t.Fatalf("dispatchd conformance did not log \"listening\" within %s", readyTimeout)
	}
	return ""
}

// mochaReport is the part of mocha's JSON reporter output the test reads.
type mochaReport struct {
	Stats struct {
		Tests    int `json:"tests"`
		Passes   int `json:"passes"`
		Failures int `json:"failures"`
		Pending  int `json:"pending"`
	} `json:"stats"`
	Tests []struct {
		FullTitle string `json:"fullTitle"`
		Duration  int    `json:"duration"`
		Err       struct {
			Message string `json:"message"`
		} `json:"err"`
	} `json:"tests"`
	Failures []struct {
		FullTitle string `json:"fullTitle"`
		Err       struct {
			Message string `json:"message"`
			Stack   string `json:"stack"`
		} `json:"err"`
	} `json:"failures"`
}

// runSuite runs one suite with mocha against url and requires all of its
// cases to pass. The suite runs from a temporary copy whose only change is
// the base URL; node-imports.js and package.json ("type": "module") are
// copied beside it and node_modules is linked, so its imports resolve as in
// the vendored folder.
func runSuite(t *testing.T, node string, s suite, url string) {
	src, err := os.ReadFile(filepath.Join(s.dir, "test-suite.js"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(src, []byte(upstreamURL)); n != 1 {
		t.Fatalf("%s/test-suite.js: want the base URL line %q once, found it %d times", s.dir, upstreamURL, n)
	}
	rewritten := bytes.Replace(src, []byte(upstreamURL), fmt.Appendf(nil, "const URL = %q;", url), 1)

	abs, err := filepath.Abs(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	for _, name := range []string{"node-imports.js", "package.json"} {
		copyFile(t, filepath.Join(abs, name), filepath.Join(run, name))
	}
	if err := os.WriteFile(filepath.Join(run, "test-suite.js"), rewritten, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(abs, "node_modules"), filepath.Join(run, "node_modules")); err != nil {
		t.Fatal(err)
	}
	reportPath := filepath.Join(run, "report.json")

	ctx, cancel := context.WithTimeout(t.Context(), suiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(abs, "node_modules", "mocha", "bin", "mocha"),
		"--reporter", "json", "--reporter-option", "output="+reportPath, "test-suite.js")
	cmd.Dir = run
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, flush := testproc.LogLines(t, "mocha: ", nil)
	cmd.Stdout = out
	cmd.Stderr = out
	start := time.Now()
	runErr := cmd.Run()
	flush()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("mocha did not finish within %s (killed)", suiteTimeout)
	}

	raw, err := os.ReadFile(reportPath)
	if err != nil {
		// mocha writes the report when the run ends; a suite that aborted
		// (an uncaught error in a case) leaves none.
		t.Fatalf("no mocha report after %s (the run aborted: %v): %v", time.Since(start).Round(time.Millisecond), runErr, err)
	}
	var rep mochaReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("mocha report: %v", err)
	}
	for _, c := range rep.Tests {
		state := "ok"
		if c.Err.Message != "" {
			state = "FAIL"
		}
		t.Logf("%-4s %s (%d ms)", state, c.FullTitle, c.Duration)
	}
	for _, f := range rep.Failures {
		t.Errorf("failed: %s: %s\n%s", f.FullTitle, f.Err.Message, f.Err.Stack)
	}
	st := rep.Stats
	t.Logf("%s: %d passing, %d failing, %d pending of %d in %s", s.dir, st.Passes, st.Failures, st.Pending, st.Tests, time.Since(start).Round(time.Millisecond))
	if st.Passes != s.cases || st.Failures != 0 || st.Pending != 0 || st.Tests != s.cases {
		t.Errorf("%s: want %d of %d passing and none failing or pending, got %d passing, %d failing, %d pending of %d",
			s.dir, s.cases, s.cases, st.Passes, st.Failures, st.Pending, st.Tests)
	}
	if runErr != nil {
		t.Errorf("mocha exited with %v", runErr)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
