//go:build linux

package hostile

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pidOf finds the process running the executable at path: testproc does
// not expose the child's pid, and the binary's path is unique to this
// test binary's temporary directory.
func pidOf(t testing.TB, path string) int {
	t.Helper()
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatalf("resolve %s: %v", path, err)
	}
	exes, err := filepath.Glob("/proc/[0-9]*/exe")
	if err != nil {
		t.Fatalf("list /proc: %v", err)
	}
	found := 0
	for _, exe := range exes {
		if target, err := os.Readlink(exe); err == nil && target == want {
			if found != 0 {
				t.Fatalf("two processes run %s", want)
			}
			found, _ = strconv.Atoi(filepath.Base(filepath.Dir(exe)))
		}
	}
	if found == 0 {
		t.Fatalf("no process runs %s", want)
	}
	return found
}

// vmRSS reads the resident set size of pid from /proc/<pid>/status.
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// metrics scrapes base's /metrics and sums each metric's samples over
// their labels (enough for the gauges read here).
func metrics(client *http.Client, base string) (map[string]float64, error) {
	res, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", res.Status)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := cutSample(line)
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] += v
		}
	}
	return out, nil
}

// cutSample splits `name{labels} value` (or `name value`).
func cutSample(line string) (name, value string, ok bool) {
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return "", "", false
	}
	name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		j := strings.LastIndexByte(rest, '}')
		if j < 0 {
			return "", "", false
		}
		rest = rest[j+1:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", "", false
	}
	return name, fields[0], true
}

// sample is the server's footprint at one moment.
type sample struct {
	rss        int64   // VmRSS from /proc
	metricRSS  float64 // process_resident_memory_bytes
	goroutines float64 // go_goroutines
	sessions   float64 // dispatchd_sessions
	heap       float64 // go_memstats_heap_inuse_bytes
	heapHeld   float64 // go_memstats_heap_sys_bytes - go_memstats_heap_released_bytes
	goSys      float64 // go_memstats_sys_bytes: all the Go runtime holds
}

// takeSample reads the server's footprint or fails t; call it from the
// test goroutine only.
func takeSample(t testing.TB, client *http.Client, base string, pid int) sample {
	t.Helper()
	s, err := readSample(client, base, pid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readSample(client *http.Client, base string, pid int) (sample, error) {
	rss, err := vmRSS(pid)
	if err != nil {
		return sample{}, fmt.Errorf("read RSS: %w", err)
	}
	m, err := metrics(client, base)
	if err != nil {
		return sample{}, fmt.Errorf("scrape metrics: %w", err)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "dispatchd_sessions", "go_memstats_heap_inuse_bytes"} {
		if _, ok := m[name]; !ok {
			return sample{}, fmt.Errorf("/metrics has no %s", name)
		}
	}
	return sample{rss: rss, metricRSS: m["process_resident_memory_bytes"], goroutines: m["go_goroutines"],
		sessions: m["dispatchd_sessions"], heap: m["go_memstats_heap_inuse_bytes"],
		heapHeld: m["go_memstats_heap_sys_bytes"] - m["go_memstats_heap_released_bytes"], goSys: m["go_memstats_sys_bytes"]}, nil
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
