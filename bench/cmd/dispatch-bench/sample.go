package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procSample is one reading of a process's CPU time and resident memory.
type procSample struct {
	cpu time.Duration // user + system so far
	rss int64         // bytes
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procSample, error) {
	user, sys, err := readCPUTimes(pid)
	if err != nil {
		return procSample{}, err
	}
	ps := procSample{cpu: user + sys}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			ps.rss = kb << 10
		}
	}
	return ps, sc.Err()
}

// selfCPU is this process's user + system time (getrusage).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MinAvgMax summarizes samples.
type MinAvgMax struct {
	N   int     `json:"samples"`
	Min float64 `json:"min"`
	Avg float64 `json:"avg"`
	Max float64 `json:"max"`
}

func (m *MinAvgMax) add(v float64) {
	if m.N == 0 || v < m.Min {
		m.Min = v
	}
	if m.N == 0 || v > m.Max {
		m.Max = v
	}
	m.Avg += (v - m.Avg) / float64(m.N+1)
	m.N++
}

// sampler reads, once a second, the server's CPU% and RSS (with --pid),
// the bench's own CPU%, the bytes waiting unread on its sockets and its
// goroutines' scheduling latency, and decides whether the bench itself is
// the bottleneck. Only its owner goroutine calls tick.
type sampler struct {
	pid      int
	last     time.Time
	lastSrv  procSample
	lastSelf time.Duration
	sched    []metrics.Sample
	lastHist *metrics.Float64Histogram

	ServerCPU   MinAvgMax `json:"server_cpu_percent"`
	ServerRSSMB MinAvgMax `json:"server_rss_mib"`
	BenchCPU    MinAvgMax `json:"bench_cpu_percent"`
	BacklogKB   MinAvgMax `json:"bench_unread_kib"`
	SchedP99ms  MinAvgMax `json:"bench_sched_latency_p99_ms"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	Saturated   bool      `json:"saturated"`
	Reasons     []string  `json:"saturated_reasons,omitempty"`

	hotCPU, hotBacklog, hotSched int // consecutive bad seconds
	srvCPU, srvRSS, benchCPU     float64
	srvOK                        bool
}

func newSampler(pid int) *sampler {
	s := &sampler{pid: pid, last: time.Now(), lastSelf: selfCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		sched: []metrics.Sample{{Name: "/sched/latencies:seconds"}}}
	if pid > 0 {
		s.lastSrv, _ = readProc(pid)
	}
	metrics.Read(s.sched)
	if s.sched[0].Value.Kind() == metrics.KindFloat64Histogram {
		s.lastHist = s.sched[0].Value.Float64Histogram()
	}
	return s
}

// tick takes one sample; active says whether load is running (only then
// do the readings count towards saturation and the summaries).
func (s *sampler) tick(now time.Time, unread int, active bool) {
	dt := now.Sub(s.last).Seconds()
	s.last = now
	if dt <= 0 {
		return
	}
	self := selfCPU()
	s.benchCPU = 100 * (self - s.lastSelf).Seconds() / dt
	s.lastSelf = self
	if s.pid > 0 {
		if ps, err := readProc(s.pid); err == nil {
			s.srvCPU = 100 * (ps.cpu - s.lastSrv.cpu).Seconds() / dt
			s.srvRSS = float64(ps.rss) / (1 << 20)
			s.lastSrv, s.srvOK = ps, true
		} else {
			s.srvOK = false
		}
	}
	schedP99 := s.schedP99()
	if !active {
		return
	}
	s.BenchCPU.add(s.benchCPU)
	s.BacklogKB.add(float64(unread) / 1024)
	s.SchedP99ms.add(schedP99 * 1000)
	if s.srvOK {
		s.ServerCPU.add(s.srvCPU)
		s.ServerRSSMB.add(s.srvRSS)
	}
	s.hotCPU = streak(s.hotCPU, s.benchCPU > 90*float64(s.GOMAXPROCS))
	s.hotBacklog = streak(s.hotBacklog, unread > 1<<20)
	s.hotSched = streak(s.hotSched, schedP99 > 0.020)
	s.flag(s.hotCPU >= 3, "bench CPU above 90% of GOMAXPROCS cores")
	s.flag(s.hotBacklog >= 3, "over 1 MiB unread on the bench's sockets (readers behind)")
	s.flag(s.hotSched >= 3, "bench goroutines wait over 20 ms to run (p99)")
}

func streak(n int, bad bool) int {
	if bad {
		return n + 1
	}
	return 0
}

func (s *sampler) flag(cond bool, reason string) {
	if !cond {
		return
	}
	for _, r := range s.Reasons {
		if r == reason {
			return
		}
	}
	s.Saturated = true
	s.Reasons = append(s.Reasons, reason)
	fmt.Fprintf(os.Stderr, "\n!!! bench saturated: %s: the numbers measure the bench, not the server !!!\n", reason)
}

// schedP99 is the p99 goroutine scheduling latency since the last call.
func (s *sampler) schedP99() float64 {
	metrics.Read(s.sched)
	if s.sched[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := s.sched[0].Value.Float64Histogram()
	prev := s.lastHist
	s.lastHist = h
	if prev == nil || len(prev.Counts) != len(h.Counts) {
		return 0
	}
	var total uint64
	for i := range h.Counts {
		total += h.Counts[i] - prev.Counts[i]
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(float64(total) * 0.99))
	var seen uint64
	for i := range h.Counts {
		seen += h.Counts[i] - prev.Counts[i]
		if seen >= want {
			v := h.Buckets[i+1]
			if math.IsInf(v, 1) {
				v = h.Buckets[i]
			}
			return v
		}
	}
	return 0
}

// serverText is the progress line's server part.
func (s *sampler) serverText() string {
	if !s.srvOK {
		return ""
	}
	return fmt.Sprintf(" server cpu=%.0f%% rss=%.0fMiB", s.srvCPU, s.srvRSS)
}
