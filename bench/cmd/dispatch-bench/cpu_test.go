package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCPUPerEvent(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	mark := func(after time.Duration, user, sys time.Duration, events int64) cpuMark {
		return cpuMark{at: t0.Add(after), user: user, sys: sys, events: events}
	}
	for _, tc := range []struct {
		name       string
		from, to   cpuMark
		want       *CPUPerEvent
		wantAbsent bool
	}{
		{
			name: "counts only the window's CPU and events",
			from: mark(0, 5*time.Second, 2*time.Second, 1_000),
			// 30 s later: 6 s user, 3 s sys more, 300,000 more events.
			to: mark(30*time.Second, 11*time.Second, 5*time.Second, 301_000),
			want: &CPUPerEvent{WindowS: 30, Events: 300_000, UserMs: 6000, SysMs: 3000,
				UserUs: 20, SysUs: 10, TotalUs: 30, CPUPercent: 30},
		},
		{
			name: "sys only, one core busy",
			from: mark(0, time.Second, 0, 0),
			to:   mark(10*time.Second, time.Second, 10*time.Second, 500_000),
			want: &CPUPerEvent{WindowS: 10, Events: 500_000, UserMs: 0, SysMs: 10_000,
				UserUs: 0, SysUs: 20, TotalUs: 20, CPUPercent: 100},
		},
		{
			name: "one tick over many events is fractional",
			from: mark(0, 0, 0, 0),
			to:   mark(time.Second, 10*time.Millisecond, 0, 4),
			want: &CPUPerEvent{WindowS: 1, Events: 4, UserMs: 10, UserUs: 2500, TotalUs: 2500, CPUPercent: 1},
		},
		{name: "no events: nothing to divide by", from: mark(0, 0, 0, 7), to: mark(time.Second, time.Second, 0, 7), wantAbsent: true},
		{name: "empty window", from: mark(time.Second, 0, 0, 0), to: mark(time.Second, 0, 0, 5), wantAbsent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cpuPerEvent(tc.from, tc.to)
			if tc.wantAbsent {
				require.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			require.InDelta(t, tc.want.WindowS, got.WindowS, 1e-9)
			require.Equal(t, tc.want.Events, got.Events)
			require.InDelta(t, tc.want.UserMs, got.UserMs, 1e-9)
			require.InDelta(t, tc.want.SysMs, got.SysMs, 1e-9)
			require.InDelta(t, tc.want.UserUs, got.UserUs, 1e-9)
			require.InDelta(t, tc.want.SysUs, got.SysUs, 1e-9)
			require.InDelta(t, tc.want.TotalUs, got.TotalUs, 1e-9)
			require.InDelta(t, tc.want.CPUPercent, got.CPUPercent, 1e-9)
		})
	}
}

func TestParseCPUTimes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stat      string
		user, sys time.Duration
		bad       bool
	}{
		{
			name: "plain name",
			stat: "1234 (dispatchd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 1000 200",
			user: 2500 * time.Millisecond, sys: 750 * time.Millisecond,
		},
		{
			name: "name with spaces and parentheses",
			stat: "99 (node (x) y) R 1 99 99 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 10 20",
			user: 10 * time.Millisecond, sys: 20 * time.Millisecond,
		},
		{name: "no parenthesis", stat: "1 dispatchd S 1", bad: true},
		{name: "too few fields", stat: "1 (d) S 1 2 3", bad: true},
		{name: "not numbers", stat: "1 (d) S 1 1 1 0 -1 0 0 0 0 0 x y 0 0", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, sys, err := parseCPUTimes(tc.stat)
			if tc.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.user, user)
			require.Equal(t, tc.sys, sys)
		})
	}
}

// TestCPUWindowOwnProcess marks this process around some spinning work:
// the window must see CPU and the events it was given.
func TestCPUWindowOwnProcess(t *testing.T) {
	w := &cpuWindow{pid: os.Getpid()}
	w.mark(false, 0) // an end before any start is ignored
	require.Nil(t, w.result())
	w.mark(true, 10)
	deadline := time.Now().Add(100 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	require.Positive(t, x)
	w.mark(false, 110)
	r := w.result()
	require.NotNil(t, r)
	require.Equal(t, int64(100), r.Events)
	require.Positive(t, r.UserMs+r.SysMs, "100 ms of spinning shows in /proc")
}
