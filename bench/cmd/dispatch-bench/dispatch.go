package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// phase is a stretch of the open-loop schedule at one rate.
type phase struct {
	rate     float64
	dur      time.Duration
	measured bool
	step     bool // ramp: a judged step
}

// runScenario connects everybody, drives the phases (next returns false
// to stop), drains, and returns the result. judge, when not nil, is called
// for each step once its orders had time to arrive and may stop the run.
func runScenario(ctx context.Context, cfg config, capacity int64, next func(k int) (phase, bool),
	judge func(b *bench, s *stepStats) bool, stdout io.Writer) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b, err := newBench(ctx, cfg, capacity)
	if err != nil {
		return nil, err
	}
	if err := checkFDLimit(cfg.Tenants*(cfg.Vendors+cfg.Drivers+cfg.Customers) + canaryDrivers + canaryCustomers); err != nil {
		return nil, err
	}
	started := time.Now()
	if err := b.connectAll(ctx); err != nil {
		b.closeAll()
		return nil, err
	}
	fmt.Fprintf(stdout, "connected %d sockets in %s (run %s)\n", len(b.all), time.Since(started).Round(time.Millisecond), b.run)

	smp := newSampler(cfg.PID)
	var active atomic.Bool
	progressDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { b.progress(smp, &active, progressDone, stdout) })

	active.Store(true)
	var stop atomic.Bool
	b.window.from.Store(1 << 62)
	b.window.to.Store(1 << 62)
	driveStart := time.Now()
	if judge != nil {
		wg.Go(func() { b.judgeSteps(ctx, judge, &stop) })
	}
	b.drive(ctx, next, &stop)
	b.drainOrders(ctx)
	if judge != nil && !stop.Load() {
		// Let the judge see the last step's grace period through.
		b.steps.mu.RLock()
		n := len(b.steps.steps)
		b.steps.mu.RUnlock()
		if last := b.steps.get(n - 1); last != nil {
			sleepCtx(ctx, time.Until(last.to.Add(judgeGrace(cfg)+100*time.Millisecond)))
		}
	}
	active.Store(false)
	close(progressDone)
	cancel()
	wg.Wait()
	b.closeAll()
	b.carry.Wait()

	r := b.result(smp, started)
	r.Elapsed = time.Since(driveStart).Seconds()
	return r, nil
}

// drive is the open-loop scheduler: it sends order i at its scheduled time
// whether or not earlier orders were answered; when it falls behind it
// sends the late ones at once (their latency still counts from the
// scheduled time).
func (b *bench) drive(ctx context.Context, next func(k int) (phase, bool), stop *atomic.Bool) {
	t := time.Now().Add(20 * time.Millisecond)
	ds := driveState{timer: time.NewTimer(time.Hour), stop: stop}
	defer ds.timer.Stop()
	for k := 0; ; k++ {
		ph, ok := next(k)
		if !ok || stop.Load() {
			return
		}
		end := t.Add(ph.dur)
		step := b.startPhase(ph, t, end)
		ds.sch.setRate(t, ds.i, ph.rate)
		if ph.measured {
			// The CPU window opens when the phase does, not before.
			if !ds.waitUntil(ctx, t) {
				return
			}
			b.cpu.mark(true, b.st.durable.Load())
		}
		if !b.sendPhase(ctx, &ds, end, step, ph.measured) {
			return
		}
		t = end
		// Sleep out the rest of the phase (a low rate may end early).
		if !ds.waitUntil(ctx, end) {
			return
		}
		if ph.measured {
			b.cpu.mark(false, b.st.durable.Load())
		}
		if s := b.steps.get(step); s != nil {
			s.endCPU(b.cfg.PID, b.st.durable.Load())
		}
	}
}

// driveState is where the open-loop scheduler stands.
type driveState struct {
	sch   schedule
	timer *time.Timer // reused for every wait
	stop  *atomic.Bool
	i     int64 // the next order's number
}

// waitUntil sleeps until at and reports false when ctx ended first.
func (ds *driveState) waitUntil(ctx context.Context, at time.Time) bool {
	if d := time.Until(at); d > 0 {
		ds.timer.Reset(d)
		select {
		case <-ctx.Done():
			return false
		case <-ds.timer.C:
		}
	}
	return true
}

// startPhase registers the phase's ramp step (returning its index, -1
// when it is not one) and stretches the measured window over it.
func (b *bench) startPhase(ph phase, from, to time.Time) int {
	step := -1
	if ph.step {
		s := &stepStats{Rate: ph.rate, from: from, to: to, lat: newRecorder(),
			errorsAtStart: b.st.errorsTotal.Load(), driversPerOrder: int64(b.cfg.Drivers)}
		s.startCPU(b.cfg.PID, b.st.durable.Load())
		step = b.steps.add(s)
	}
	if ph.measured {
		if b.window.from.Load() == 1<<62 {
			b.window.from.Store(from.UnixNano())
		}
		b.window.to.Store(to.UnixNano())
	}
	return step
}

// sendPhase sends every order scheduled before end, each at its time. It
// reports false when the run must stop: out of orders, stopped, or ctx
// ended.
func (b *bench) sendPhase(ctx context.Context, ds *driveState, end time.Time, step int, measured bool) bool {
	for {
		at := ds.sch.at(ds.i)
		if !at.Before(end) {
			return true
		}
		if ds.i >= b.orders.capacity() || ds.stop.Load() {
			return false
		}
		if !ds.waitUntil(ctx, at) {
			return false
		}
		i := ds.i
		o := b.orders.add(i, func(o *orderState) {
			o.at, o.tenant, o.step, o.measured = at, int(i%int64(len(b.tenants))), step, measured
		})
		b.sendOrder(i, o)
		ds.i++
	}
}

// drainOrders waits until every created order is delivered and announced
// to every driver, or --carry + --drain has passed.
func (b *bench) drainOrders(ctx context.Context) {
	deadline := time.Now().Add(b.cfg.Carry + b.cfg.Drain)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	first := int64(0)
	for time.Now().Before(deadline) {
		for first < b.orders.n.Load() && b.finished(b.orders.get(first)) {
			first++
		}
		if first == b.orders.n.Load() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (b *bench) finished(o *orderState) bool {
	return o.failed.Load() || o.created.Load() && o.done.Load() && o.pickups.Load() >= int32(b.cfg.Drivers)
}

// judgeSteps judges each ramp step a grace period after it ends (so its
// late pickups count) and stops the run at the first failing one.
func (b *bench) judgeSteps(ctx context.Context, judge func(*bench, *stepStats) bool, stop *atomic.Bool) {
	grace := judgeGrace(b.cfg)
	for k := 0; ; k++ {
		var s *stepStats
		for s == nil {
			if s = b.steps.get(k); s != nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(s.to.Add(grace))):
		}
		if !judge(b, s) {
			stop.Store(true)
			return
		}
	}
}

// judgeGrace is how long after its end a step is judged.
func judgeGrace(cfg config) time.Duration { return max(2*cfg.P99Target, time.Second) }

// progress prints one line a second until done.
func (b *bench) progress(smp *sampler, active *atomic.Bool, done <-chan struct{}, stdout io.Writer) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			unread := 0
			for _, u := range b.all {
				unread += u.c.unread()
			}
			smp.tick(now, unread, active.Load())
			if b.cfg.Quiet {
				continue
			}
			p99 := summarize(b.st.pickupLat.merged()).P99
			fmt.Fprintf(stdout, "t=%3.0fs unix_ms=%d sent=%d acked=%d completed=%d pickups=%d durable=%d p99=%.1fms errors=%d cross=%d bench cpu=%.0f%%%s\n",
				now.Sub(start).Seconds(), now.UnixMilli(), b.st.sent.Load(), b.st.acked.Load(), b.st.completed.Load(), b.st.pickups.Load(), b.st.durable.Load(),
				p99, b.st.errorsTotal.Load(), b.st.crossTenant.Load(), smp.benchCPU, smp.serverText())
		}
	}
}

// result gathers everything once the sockets are closed.
func (b *bench) result(smp *sampler, started time.Time) *Result {
	for i := range b.orders.n.Load() {
		o := b.orders.get(i)
		if !o.created.Load() {
			if !o.failed.Load() {
				b.st.fail("create_unanswered")
			}
			continue
		}
		if !o.done.Load() {
			b.st.fail("not_delivered")
		}
		if missing := int64(b.cfg.Drivers) - int64(o.pickups.Load()); missing > 0 {
			b.st.failN("pickup_missing", missing)
		}
	}
	var seq SeqProblems
	for _, u := range b.all {
		seq.Gaps += u.seq.gaps()
		seq.Reorders += u.seq.reorders
		seq.Dups += u.seq.dups
	}
	claims := checkClaims(b.orders)
	pick := summarize(b.st.pickupLat.merged())
	comp := summarize(b.st.completeLat.merged())
	window := time.Duration(b.window.to.Load() - b.window.from.Load())
	oc := &OrderCounts{Sent: b.st.sent.Load(), Acked: b.st.acked.Load(), Completed: b.st.completed.Load(), TargetRate: b.cfg.Rate}
	if window > 0 && window < time.Duration(1<<61) {
		oc.AchievedRate = float64(b.st.ackedInWindow.Load()) / window.Seconds()
	}
	return &Result{
		Label: b.cfg.Label, Mode: b.cfg.Mode, Config: b.cfg, StartedAt: started.UTC(),
		Orders: oc, PickupLatency: &pick, CompletionLatency: &comp, Claims: &claims, Seq: seq,
		CrossTenant: b.st.crossTenant.Load(), ErrorsTotal: b.st.errorsTotal.Load(), Errors: b.st.errorsByCode(),
		Events: b.st.eventsByName(), Samples: smp, Saturated: smp.Saturated, ServerCPUPerEvent: b.cpu.result(),
	}
}

// runDispatch is mode dispatch: --warmup then --duration at --rate.
func runDispatch(ctx context.Context, cfg config, stdout io.Writer) (*Result, error) {
	phases := []phase{{rate: cfg.Rate, dur: cfg.Warmup}, {rate: cfg.Rate, dur: cfg.Duration, measured: true}}
	if cfg.Warmup == 0 {
		phases = phases[1:]
	}
	capacity := countIn(cfg.Rate, cfg.Warmup+cfg.Duration)
	r, err := runScenario(ctx, cfg, capacity, func(k int) (phase, bool) {
		if k >= len(phases) {
			return phase{}, false
		}
		return phases[k], true
	}, nil, stdout)
	if err != nil {
		return nil, err
	}
	r.judge(cfg.P99Target)
	return r, nil
}
