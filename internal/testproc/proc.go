package testproc

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds of a dispatchd process's life in a test.
const (
	// ReadyTimeout is how long Start waits for /healthz and /readyz.
	ReadyTimeout = 20 * time.Second
	// StopTimeout is how long SIGTERM may take with no client left: a
	// few seconds, well below the server's own 15 s drain deadline.
	StopTimeout = 5 * time.Second
)

// Options describe one dispatchd process.
type Options struct {
	// Name prefixes the process's output lines in the test log
	// ("dispatchd" when empty).
	Name string
	// Addr is the listen address; empty picks a free loopback port.
	Addr string
	// Env is added to ChildEnv; DISPATCH_ADDR is set from Addr.
	Env []string
	// Tolerate, when set, exempts an error-level output line from the
	// problems that fail the test (faults the test causes on purpose).
	// Panics and races are never tolerated.
	Tolerate func(line string) bool
}

// Proc is one running dispatchd process. Only the test goroutine calls
// its methods; watch runs on the output-logging goroutine.
type Proc struct {
	URL  string // http://127.0.0.1:port
	Addr string

	bin    string
	opts   Options
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for; then waitErr is set
	// waitErr is cmd.Wait's result, read only after exited is closed.
	waitErr error
	flush   func() // waits until every output line has been logged and watched
	ended   bool   // Stop or Kill ran

	mu       sync.Mutex
	problems []string // error-level log lines, panics, race reports
}

// Start runs `dispatchd serve` with env (on top of ChildEnv) on a free
// loopback port and waits until /healthz and /readyz answer 200. Its
// output goes to t.Log. Unless the test stops or kills it first, it is
// stopped (and checked) at cleanup.
func Start(t testing.TB, bin string, env ...string) *Proc {
	t.Helper()
	return StartWith(t, bin, Options{Env: env})
}

// StartWith is Start with every option.
func StartWith(t testing.TB, bin string, opts Options) *Proc {
	t.Helper()
	p := Launch(t, bin, opts)
	p.WaitStatus(t, "/healthz", http.StatusOK, ReadyTimeout)
	p.WaitStatus(t, "/readyz", http.StatusOK, ReadyTimeout)
	return p
}

// Launch starts the process and returns at once, without waiting for it
// to be ready.
func Launch(t testing.TB, bin string, opts Options) *Proc {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = FreeAddr(t)
	}
	if opts.Name == "" {
		opts.Name = "dispatchd"
	}
	p := &Proc{URL: "http://" + opts.Addr, Addr: opts.Addr, bin: bin, opts: opts, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = ChildEnv(append(append([]string(nil), opts.Env...), "DISPATCH_ADDR="+opts.Addr)...)
	out, flush := LogLines(t, opts.Name+": ", p.watch)
	p.cmd.Stdout = out
	p.cmd.Stderr = out
	p.flush = flush
	if err := p.cmd.Start(); err != nil {
		flush()
		t.Fatalf("start %s: %v", opts.Name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.Stop(t) })
	return p
}

// Restart starts a new process with the same binary, address and
// environment (so the same data directory) as p, which must have ended,
// and waits until it is ready.
func (p *Proc) Restart(t testing.TB) *Proc {
	t.Helper()
	if !p.ended {
		t.Fatalf("restart %s: it is still running", p.opts.Name)
	}
	return StartWith(t, p.bin, p.opts)
}

// Exited is closed once the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Status GETs path and returns the status code.
func (p *Proc) Status(path string) (int, error) {
	client := &http.Client{Timeout: time.Second}
	res, err := client.Get(p.URL + path)
	if err != nil {
		return 0, err
	}
	_ = res.Body.Close()
	return res.StatusCode, nil
}

// WaitStatus polls path until it answers code, and fails t if that takes
// longer than timeout or the process exits.
func (p *Proc) WaitStatus(t testing.TB, path string, code int, timeout time.Duration) {
	t.Helper()
	stop := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := p.Status(path)
		if err == nil && got == code {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before %s answered %d: %v (see its output above)", p.opts.Name, path, code, p.waitErr)
		case <-tick.C:
		}
		if time.Now().After(stop) {
			t.Fatalf("%s%s did not answer %d within %s (last: %d, %v)", p.URL, path, code, timeout, got, err)
		}
	}
}

// watch notes the output lines that mean something went wrong inside the
// server, whatever the test's outcome.
func (p *Proc) watch(line string) {
	bad := false
	if strings.HasPrefix(line, "{") {
		var entry struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil {
			switch entry.Level {
			case "error", "dpanic", "panic", "fatal":
				bad = p.opts.Tolerate == nil || !p.opts.Tolerate(line)
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
		p.mu.Lock()
		p.problems = append(p.problems, line)
		p.mu.Unlock()
	}
}

// Stop sends SIGTERM and fails t unless the server drains and exits 0
// within StopTimeout, or if it logged errors, panicked or raced at any
// time. Calls after the first Stop or Kill do nothing.
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	if p.ended {
		return
	}
	p.ended = true
	select {
	case <-p.exited:
		t.Errorf("%s exited before it was stopped: %v", p.opts.Name, p.waitErr)
	default:
		p.terminate(t)
	}
	p.report(t)
}

// Kill sends SIGKILL, as a crash would, and waits for the process to be
// gone. It fails t if the process had exited already or had logged
// errors, panicked or raced before. Calls after the first Stop or Kill do
// nothing.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	if p.ended {
		return
	}
	p.ended = true
	select {
	case <-p.exited:
		t.Errorf("%s exited before it was killed: %v", p.opts.Name, p.waitErr)
	default:
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Errorf("SIGKILL %s: %v", p.opts.Name, err)
		}
		<-p.exited
		t.Logf("%s killed (SIGKILL)", p.opts.Name)
	}
	p.report(t)
}

func (p *Proc) report(t testing.TB) {
	t.Helper()
	p.flush()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) > 0 {
		t.Errorf("%s reported %d problem(s):\n%s", p.opts.Name, len(p.problems), strings.Join(p.problems, "\n"))
	}
}

func (p *Proc) terminate(t testing.TB) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM %s: %v", p.opts.Name, err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			t.Errorf("%s did not exit cleanly after SIGTERM: %v (see its output above)", p.opts.Name, p.waitErr)
			return
		}
		t.Logf("%s exited 0 %s after SIGTERM", p.opts.Name, time.Since(start).Round(time.Millisecond))
	case <-time.After(StopTimeout):
		t.Errorf("%s still running %s after SIGTERM; killing it", p.opts.Name, StopTimeout)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// PID is the process id, e.g. for its CPU time in /proc/<pid>/stat.
func (p *Proc) PID() int { return p.cmd.Process.Pid }
