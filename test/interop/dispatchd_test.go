//go:build unix

package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Bounds of the dispatchd process's life in a test.
const (
	buildTimeout  = 3 * time.Minute
	healthTimeout = 20 * time.Second
	// stopTimeout is how long SIGTERM may take with no client left: a
	// few seconds, well below the server's own 15 s drain deadline.
	stopTimeout = 5 * time.Second
)

// buildDispatchd builds ./cmd/dispatchd into a temporary directory and
// returns the binary's path. When the tests run with -race the binary gets
// it too, so a race inside the server fails the test (exit status 66).
func buildDispatchd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dispatchd")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/dispatchd")

	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot(t)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built dispatchd (race: %t) in %s", raceEnabled(), time.Since(start).Round(time.Millisecond))
	return bin
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
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

// moduleRoot is the nearest directory at or above the working directory
// that holds go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// childEnv is this process's environment without any DISPATCH_ setting
// (a developer's DISPATCH_CONFIG or DISPATCH_DATABASE_URL must not leak
// into the server under test), plus extra.
func childEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "DISPATCH_") })
	return append(env, extra...)
}

// server is one running dispatchd process. Only the test goroutine calls
// its methods; watch runs on the output-logging goroutine.
type server struct {
	url    string // http://127.0.0.1:port
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for; then waitErr is set
	// waitErr is cmd.Wait's result, read only after exited is closed.
	waitErr error
	flush   func() // waits until every output line has been logged and watched
	stopped bool

	mu       sync.Mutex
	problems []string // error-level log lines, panics, race reports
}

// startDispatchd runs `dispatchd serve` on a free loopback port with env (on
// top of childEnv) and waits until /healthz and /readyz answer 200. Its
// output goes to t.Log. Unless the test stops it first, it is stopped (and
// checked) at cleanup.
func startDispatchd(t *testing.T, bin string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{url: "http://" + addr, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = childEnv(append(env, "DISPATCH_ADDR="+addr)...)
	out, flush := logLines(t, "dispatchd: ", s.watch)
	s.cmd.Stdout = out
	s.cmd.Stderr = out
	s.flush = flush
	if err := s.cmd.Start(); err != nil {
		flush()
		t.Fatalf("start dispatchd: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })

	s.waitReady(t, "/healthz")
	s.waitReady(t, "/readyz")
	return s
}

// freeAddr returns a loopback address with a port that was free a moment
// ago (the server binds it itself, so there is a small window).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// watch notes the output lines that mean something went wrong inside the
// server, whatever the story's outcome.
func (s *server) watch(line string) {
	bad := false
	if strings.HasPrefix(line, "{") {
		var entry struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil {
			switch entry.Level {
			case "error", "dpanic", "panic", "fatal":
				bad = true
			}
		}
	} else {
		for _, marker := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
			if strings.Contains(line, marker) {
				bad = true
			}
		}
	}
	if bad {
		s.mu.Lock()
		s.problems = append(s.problems, line)
		s.mu.Unlock()
	}
}

func (s *server) waitReady(t *testing.T, path string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	stop := time.Now().Add(healthTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := client.Get(s.url + path)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("dispatchd exited before %s answered: %v (see its output above)", path, s.waitErr)
		case <-tick.C:
		}
		if time.Now().After(stop) {
			t.Fatalf("%s%s did not answer 200 within %s (last: %v)", s.url, path, healthTimeout, statusOrErr(res, err))
		}
	}
}

func statusOrErr(res *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return res.Status
}

// stop sends SIGTERM and fails t unless the server drains and exits 0
// within stopTimeout, or if it logged errors, panicked or raced at any time.
// Calls after the first do nothing.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	select {
	case <-s.exited:
		t.Errorf("dispatchd exited before it was stopped: %v", s.waitErr)
	default:
		s.terminate(t)
	}
	s.flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) > 0 {
		t.Errorf("dispatchd reported %d problem(s):\n%s", len(s.problems), strings.Join(s.problems, "\n"))
	}
}

func (s *server) terminate(t *testing.T) {
	t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM dispatchd: %v", err)
	}
	select {
	case <-s.exited:
		if s.waitErr != nil {
			t.Errorf("dispatchd did not exit cleanly after SIGTERM: %v (see its output above)", s.waitErr)
			return
		}
		t.Logf("dispatchd exited 0 %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(stopTimeout):
		t.Errorf("dispatchd still running %s after SIGTERM; killing it", stopTimeout)
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// mintToken runs `dispatchd token` with the server's secret.
func mintToken(t *testing.T, bin, secret, tenant, role, sub string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, "token", "--tenant", tenant, "--role", role, "--sub", sub, "--ttl", "10m")
	// A -race binary sleeps a second at exit by default, waiting for late
	// race reports; a command this short has none to wait for.
	cmd.Env = childEnv("DISPATCH_JWT_SECRET="+secret, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dispatchd token --tenant %s --role %s --sub %s: %v\n%s", tenant, role, sub, err, stderr.Bytes())
	}
	tok := strings.TrimSpace(string(out))
	if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("dispatchd token printed %q, want just a JWT", out)
	}
	return tok
}

// freshSchema creates a schema in the PostgreSQL database at base, drops it
// when t ends, and returns base with its search_path set to it. Register it
// before starting the server: cleanups run last-in first-out, so the
// server has exited before the schema goes.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	schema := "story_" + randomHex(t, 6)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// The name is ours and made of [a-z0-9_]; identifiers cannot be bound.
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
