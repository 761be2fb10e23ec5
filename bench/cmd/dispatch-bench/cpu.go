package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTick = 100

// readCPUTimes reads a process's user and system CPU time so far from
// /proc/PID/stat (utime, stime).
func readCPUTimes(pid int) (user, sys time.Duration, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseCPUTimes(string(raw))
}

// parseCPUTimes takes utime and stime out of a /proc/PID/stat line. The
// command name may hold spaces and parentheses: fields count from the last
// ')'.
func parseCPUTimes(s string) (user, sys time.Duration, err error) {
	r := strings.LastIndexByte(s, ')')
	if r < 0 {
		return 0, 0, fmt.Errorf("/proc stat: no ')'")
	}
	fields := strings.Fields(s[r+1:])
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("/proc stat: %d fields", len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("/proc stat: bad times")
	}
	return time.Duration(utime) * time.Second / clockTick, time.Duration(stime) * time.Second / clockTick, nil
}

// cpuMark is one reading taken at an edge of the measured window: the
// server's CPU so far and the durable events the clients had received.
type cpuMark struct {
	at        time.Time
	user, sys time.Duration
	events    int64
}

// CPUPerEvent is the server's CPU per delivered durable event (one that
// carries a seq) over the measured window, warm-up excluded.
type CPUPerEvent struct {
	WindowS    float64 `json:"window_s"`
	Events     int64   `json:"durable_events"`
	UserMs     float64 `json:"user_ms"`
	SysMs      float64 `json:"sys_ms"`
	UserUs     float64 `json:"user_us_per_event"`
	SysUs      float64 `json:"sys_us_per_event"`
	TotalUs    float64 `json:"total_us_per_event"`
	CPUPercent float64 `json:"cpu_percent"` // of one core, user + sys
}

// cpuPerEvent is the arithmetic between two marks; nil when the window is
// empty or saw no durable event (nothing to divide by).
func cpuPerEvent(from, to cpuMark) *CPUPerEvent {
	events := to.events - from.events
	window := to.at.Sub(from.at)
	if events <= 0 || window <= 0 {
		return nil
	}
	user, sys := to.user-from.user, to.sys-from.sys
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(events) }
	return &CPUPerEvent{
		WindowS: window.Seconds(), Events: events,
		UserMs: float64(user) / float64(time.Millisecond), SysMs: float64(sys) / float64(time.Millisecond),
		UserUs: us(user), SysUs: us(sys), TotalUs: us(user + sys),
		CPUPercent: 100 * float64(user+sys) / float64(window),
	}
}

// cpuWindow takes the marks at the measured window's edges: the start of
// the first measured phase and the end of the last one that finished.
type cpuWindow struct {
	pid      int
	mu       sync.Mutex
	from, to cpuMark
	started  bool
	ended    bool
}

// mark reads the server's CPU now; start says which edge it is. A failed
// read leaves the window without a result rather than a wrong one.
func (w *cpuWindow) mark(start bool, events int64) {
	if w.pid <= 0 {
		return
	}
	user, sys, err := readCPUTimes(w.pid)
	m := cpuMark{at: time.Now(), user: user, sys: sys, events: events}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.started = false
	case start && !w.started:
		w.from, w.started = m, true
	case !start && w.started:
		w.to, w.ended = m, true
	}
}

// result is the window's CPU per event, nil without both edges.
func (w *cpuWindow) result() *CPUPerEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started || !w.ended {
		return nil
	}
	return cpuPerEvent(w.from, w.to)
}
