package main

// The smoke test drives the real dispatchd binary. The bench module depends
// on the server only through the wire contract (so it can be installed on
// its own and pointed at any peer), hence this small launcher instead of
// the server module's internal/testproc: build ../cmd/dispatchd from the
// checkout, run `dispatchd serve`, wait until ready, and at cleanup stop it
// with SIGTERM and fail on a dirty exit or an error-level line.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serverModule is the module whose ./cmd/dispatchd the smoke test builds.
const serverModule = "github.com/dispatchd/dispatchd"

// Bounds of the server's life in the smoke test.
const (
	buildTimeout = 3 * time.Minute
	readyTimeout = 20 * time.Second
	stopTimeout  = 5 * time.Second
)

// serverRoot is the nearest directory above the working directory whose
// go.mod declares serverModule: the checkout this bench module sits in.
func serverRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && slices.Contains(strings.Split(string(b), "\n"), "module "+serverModule) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", serverModule)
		}
		dir = parent
	}
}

// buildServer builds dispatchd without -race even when the test has it:
// the smoke test measures latency against a 100 ms bar, which a race-built
// server misses by itself. The bench under test still runs with -race.
func buildServer(t *testing.T) string {
	t.Helper()
	root, err := serverRoot()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "dispatchd")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/dispatchd")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/dispatchd: %s", out)
	return bin
}

// server is one running `dispatchd serve`.
type server struct {
	URL string

	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd has been waited for
	waitErr error         // read only after exited is closed
	logged  chan struct{} // closed once every output line has been read

	mu       sync.Mutex
	problems []string // error-level lines, panics, races
}

// startServer runs bin serve on a free loopback port with env (the
// caller's DISPATCH_ settings left out) and waits for /readyz; it is
// stopped and checked when t ends.
func startServer(t *testing.T, bin string, env ...string) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	s := &server{URL: "http://" + addr, exited: make(chan struct{}), logged: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DISPATCH_")
	}), append(env, "DISPATCH_ADDR="+addr)...)
	r, w := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = w, w
	go s.readLines(t, r)
	if err := s.cmd.Start(); err != nil {
		_ = w.Close()
		<-s.logged
		t.Fatalf("start dispatchd: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		_ = w.Close()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	s.waitReady(t)
	return s
}

// readLines logs the server's output and notes the lines that mean
// something went wrong inside it.
func (s *server) readLines(t *testing.T, r io.Reader) {
	defer close(s.logged)
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 64*1024), 1024*1024)
	for lines.Scan() {
		line := lines.Text()
		t.Log("dispatchd: " + line)
		var entry struct {
			Level string `json:"level"`
		}
		bad := strings.Contains(line, "panic:") || strings.Contains(line, "fatal error:") ||
			strings.Contains(line, "WARNING: DATA RACE")
		if json.Unmarshal([]byte(line), &entry) == nil {
			bad = bad || slices.Contains([]string{"error", "dpanic", "panic", "fatal"}, entry.Level)
		}
		if bad {
			s.mu.Lock()
			s.problems = append(s.problems, line)
			s.mu.Unlock()
		}
	}
	// A line too long for the scanner: keep draining so the server never
	// blocks on its output.
	_, _ = io.Copy(io.Discard, r)
}

func (s *server) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		res, err := client.Get(s.URL + "/readyz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("dispatchd exited before it was ready: %v", s.waitErr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dispatchd not ready within %s: %v", readyTimeout, err)
		}
	}
}

// stop sends SIGTERM and fails t unless the server exits 0 within
// stopTimeout and logged no problem.
func (s *server) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
		t.Errorf("dispatchd exited before it was stopped: %v", s.waitErr)
	default:
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("SIGTERM dispatchd: %v", err)
		}
		select {
		case <-s.exited:
			if s.waitErr != nil {
				t.Errorf("dispatchd did not exit cleanly after SIGTERM: %v", s.waitErr)
			}
		case <-time.After(stopTimeout):
			t.Errorf("dispatchd still running %s after SIGTERM; killing it", stopTimeout)
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	<-s.logged
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) > 0 {
		t.Errorf("dispatchd reported %d problem(s):\n%s", len(s.problems), strings.Join(s.problems, "\n"))
	}
}
