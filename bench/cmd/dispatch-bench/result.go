package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Result is the JSON a run writes.
type Result struct {
	Label     string    `json:"label"`
	Mode      string    `json:"mode"`
	Config    config    `json:"config"`
	StartedAt time.Time `json:"started_at"`
	Elapsed   float64   `json:"elapsed_s"`

	Orders            *OrderCounts     `json:"orders,omitempty"`
	PickupLatency     *Percentiles     `json:"pickup_available_latency,omitempty"`
	CompletionLatency *Percentiles     `json:"completion_latency,omitempty"`
	Claims            *claimCheck      `json:"claims,omitempty"`
	Seq               SeqProblems      `json:"seq"`
	CrossTenant       int64            `json:"cross_tenant_deliveries"`
	ErrorsTotal       int64            `json:"errors_total"`
	Errors            map[string]int64 `json:"errors"`
	Events            map[string]int64 `json:"events_received"`
	Samples           *sampler         `json:"samples"`
	ServerCPUPerEvent *CPUPerEvent     `json:"server_cpu_per_durable_event,omitempty"`
	Saturated         bool             `json:"saturated"`

	Steps         []StepResult `json:"steps,omitempty"`
	SustainedRate float64      `json:"sustained_rate,omitempty"`

	Conns *ConnsResult `json:"conns,omitempty"`

	Pass     bool     `json:"pass"`
	Failures []string `json:"failures,omitempty"`
}

// OrderCounts are the order totals of a run.
type OrderCounts struct {
	Sent         int64   `json:"sent"`
	Acked        int64   `json:"acked"`
	Completed    int64   `json:"completed"`
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"` // create acks per second in the measured window
}

// SeqProblems sums every recipient's seq checker.
type SeqProblems struct {
	Gaps     int64 `json:"gaps"`
	Reorders int64 `json:"reorders"`
	Dups     int64 `json:"dups"`
}

func (s SeqProblems) total() int64 { return s.Gaps + s.Reorders + s.Dups }

// StepResult is one ramp step.
type StepResult struct {
	Rate         float64 `json:"rate"`
	AchievedRate float64 `json:"achieved_rate"`
	P99ms        float64 `json:"p99_ms"`
	Pickups      int64   `json:"pickups"`
	Missing      int64   `json:"pickups_missing_at_judgement"`
	Errors       int64   `json:"errors"`
	Pass         bool    `json:"pass"`
	// CPU over the step, percent of one core (-1: not measured).
	BenchCPU  float64 `json:"bench_cpu_percent"`
	ServerCPU float64 `json:"server_cpu_percent"`
	// Durable events received per second in the step, and each process's
	// CPU-µs per such event (0: not measured).
	DurablePerSec    float64 `json:"durable_per_s"`
	BenchUsPerEvent  float64 `json:"bench_us_per_event"`
	ServerUsPerEvent float64 `json:"server_us_per_event"`
}

// judge applies the pass rule: p99 pickup:available latency below the
// target, no errors, no seq problems, exactly one claim winner per order
// and no cross-tenant delivery. A conns run passes with every connection
// opened and none dropped.
func (r *Result) judge(target time.Duration) {
	r.Failures = nil
	fail := func(format string, args ...any) { r.Failures = append(r.Failures, fmt.Sprintf(format, args...)) }
	if r.Conns != nil {
		if r.Conns.Failed > 0 {
			fail("%d connections failed", r.Conns.Failed)
		}
		if r.Conns.Dropped > 0 {
			fail("%d connections dropped during the hold", r.Conns.Dropped)
		}
		if r.Conns.LateHeartbeats > 0 {
			fail("%d sockets went pingInterval+pingTimeout without a ping", r.Conns.LateHeartbeats)
		}
	} else {
		targetMs := float64(target) / float64(time.Millisecond)
		switch {
		case r.PickupLatency == nil || r.PickupLatency.Count == 0:
			fail("no pickup:available measured")
		case r.PickupLatency.P99 >= targetMs:
			fail("p99 pickup:available %.1f ms ≥ target %.1f ms", r.PickupLatency.P99, targetMs)
		}
		if r.Claims == nil || !r.Claims.OK {
			fail("claims: not exactly one winner per order")
		}
	}
	if r.ErrorsTotal > 0 {
		fail("%d errors", r.ErrorsTotal)
	}
	if n := r.Seq.total(); n > 0 {
		fail("%d seq problems", n)
	}
	if r.CrossTenant > 0 {
		fail("%d cross-tenant deliveries", r.CrossTenant)
	}
	r.Pass = len(r.Failures) == 0
}

// write stores the result in path ("-": w, "": nowhere).
func (r *Result) write(path string, w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	switch path {
	case "":
		return nil
	case "-":
		_, err = w.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// summaryLine is the one-line verdict printed at the end.
func (r *Result) summaryLine() string {
	s := fmt.Sprintf("%s label=%q pass=%t", r.Mode, r.Label, r.Pass)
	if r.Orders != nil {
		s += fmt.Sprintf(" orders sent=%d acked=%d completed=%d rate=%.1f/s", r.Orders.Sent, r.Orders.Acked, r.Orders.Completed, r.Orders.AchievedRate)
	}
	if p := r.PickupLatency; p != nil {
		s += fmt.Sprintf(" pickup p50=%.2fms p99=%.2fms p99.9=%.2fms max=%.2fms (n=%d)", p.P50, p.P99, p.P999, p.Max, p.Count)
	}
	if p := r.CompletionLatency; p != nil && p.Count > 0 {
		s += fmt.Sprintf(" completion p99=%.0fms", p.P99)
	}
	if r.SustainedRate > 0 || len(r.Steps) > 0 {
		s += fmt.Sprintf(" sustained=%.1f/s", r.SustainedRate)
	}
	if c := r.Conns; c != nil {
		s += fmt.Sprintf(" conns=%d rate=%.0f/s rss/conn=%.0fB dropped=%d", c.Opened, c.AchievedRate, c.RSSPerConnBytes, c.Dropped)
	}
	s += fmt.Sprintf(" errors=%d seq=%d cross_tenant=%d", r.ErrorsTotal, r.Seq.total(), r.CrossTenant)
	if r.Samples != nil {
		s += fmt.Sprintf(" bench_cpu_avg=%.0f%%", r.Samples.BenchCPU.Avg)
		if r.Samples.ServerCPU.N > 0 {
			s += fmt.Sprintf(" server_cpu_avg=%.0f%% server_rss_max=%.0fMiB", r.Samples.ServerCPU.Avg, r.Samples.ServerRSSMB.Max)
		}
	}
	if c := r.ServerCPUPerEvent; c != nil {
		s += fmt.Sprintf(" server_cpu_per_event=%.1fus (user=%.1fus sys=%.1fus, %d durable events in %.1fs, %.0f%% cpu)",
			c.TotalUs, c.UserUs, c.SysUs, c.Events, c.WindowS, c.CPUPercent)
	}
	if r.Saturated {
		s += " SATURATED"
	}
	return s
}
