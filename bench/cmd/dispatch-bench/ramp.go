package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// rampRates lists the step rates: from --rate by --step up to --max-rate.
func rampRates(cfg config) []float64 {
	var rates []float64
	for r := cfg.Rate; r <= cfg.MaxRate+1e-9 && len(rates) < 10_000; r += cfg.Step {
		rates = append(rates, r)
	}
	return rates
}

// judgeStep applies the bar to one step: p99 below the target and no
// error during it. Pickups still missing when it is judged count as
// slower than the grace period, so a server that falls far behind fails
// even though its late latencies are not in yet.
func judgeStep(s *stepStats, errorsNow int64, grace, target time.Duration, stepDur time.Duration) StepResult {
	h := s.lat.merged()
	res := StepResult{Rate: s.Rate, Pickups: s.pickups.Load(), Errors: errorsNow - s.errorsAtStart}
	res.AchievedRate = float64(s.ackedInStep.Load()) / stepDur.Seconds()
	res.P99ms = float64(h.ValueAtQuantile(99)) / 1000
	expected := s.created.Load() * s.driversPerOrder
	res.Missing = max(expected-res.Pickups, 0)
	if expected > 0 && float64(res.Missing) > 0.01*float64(expected) {
		res.P99ms = max(res.P99ms, float64(grace)/float64(time.Millisecond))
	}
	if s.created.Load() == 0 {
		res.P99ms = float64(grace) / float64(time.Millisecond)
	}
	res.Pass = res.P99ms < float64(target)/float64(time.Millisecond) && res.Errors == 0
	s.cpuResult(&res)
	return res
}

// runRamp is mode ramp: the dispatch scenario without pause, the rate
// raised by --step every --step-duration until a step fails the bar or
// --max-rate is done.
func runRamp(ctx context.Context, cfg config, stdout io.Writer) (*Result, error) {
	rates := rampRates(cfg)
	capacity := countIn(cfg.Rate, cfg.Warmup)
	for _, r := range rates {
		capacity += countIn(r, cfg.StepDuration)
	}
	var phases []phase
	if cfg.Warmup > 0 {
		phases = append(phases, phase{rate: cfg.Rate, dur: cfg.Warmup})
	}
	for _, r := range rates {
		phases = append(phases, phase{rate: r, dur: cfg.StepDuration, measured: true, step: true})
	}
	grace := judgeGrace(cfg)
	var mu sync.Mutex
	var steps []StepResult
	judged := map[*stepStats]bool{}
	judge := func(b *bench, s *stepStats) bool {
		res := judgeStep(s, b.st.errorsTotal.Load(), grace, cfg.P99Target, cfg.StepDuration)
		mu.Lock()
		defer mu.Unlock()
		if judged[s] {
			return res.Pass
		}
		judged[s] = true
		steps = append(steps, res)
		fmt.Fprintf(stdout, "step %.0f/s: achieved %.1f/s p99 %.1f ms errors %d missing %d pass=%t durable %.0f/s cpu bench %.0f%% (%.1fus/event) server %.0f%% (%.1fus/event)\n",
			res.Rate, res.AchievedRate, res.P99ms, res.Errors, res.Missing, res.Pass, res.DurablePerSec,
			res.BenchCPU, res.BenchUsPerEvent, res.ServerCPU, res.ServerUsPerEvent)
		return res.Pass
	}
	r, err := runScenario(ctx, cfg, capacity, func(k int) (phase, bool) {
		if k >= len(phases) {
			return phase{}, false
		}
		return phases[k], true
	}, judge, stdout)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	r.Steps = steps
	for _, s := range steps {
		if !s.Pass {
			break
		}
		r.SustainedRate = s.AchievedRate
	}
	r.judge(cfg.P99Target)
	// A ramp is meant to end on a failing step: its verdict is whether any
	// rate was sustained with the correctness checks intact.
	r.Failures = nil
	if r.SustainedRate == 0 {
		r.Failures = append(r.Failures, "no step sustained")
	}
	if n := r.Seq.total(); n > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d seq problems", n))
	}
	if r.CrossTenant > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d cross-tenant deliveries", r.CrossTenant))
	}
	if r.Claims != nil && r.Claims.ManyWinners > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d orders with several claim winners", r.Claims.ManyWinners))
	}
	r.Pass = len(r.Failures) == 0
	return r, nil
}
