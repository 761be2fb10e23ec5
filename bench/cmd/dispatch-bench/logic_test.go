package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSeqChecker(t *testing.T) {
	tests := []struct {
		name                 string
		seqs                 []int64
		gaps, reorders, dups int64
	}{
		{"in order", []int64{1, 2, 3, 4}, 0, 0, 0},
		{"gap", []int64{1, 2, 4, 5}, 1, 0, 0},
		{"gap at the start", []int64{3, 4}, 2, 0, 0},
		{"reorder", []int64{1, 3, 2, 4}, 0, 1, 0},
		{"dup", []int64{1, 2, 2, 3}, 0, 0, 1},
		{"redelivered after a reorder", []int64{1, 3, 2, 2}, 0, 1, 1},
		{"empty", nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seqChecker
			for _, q := range tt.seqs {
				s.see(q)
			}
			assert.Equal(t, tt.gaps, s.gaps(), "gaps")
			assert.Equal(t, tt.reorders, s.reorders, "reorders")
			assert.Equal(t, tt.dups, s.dups, "dups")
		})
	}
}

func TestSeqCheckerBoundsMissing(t *testing.T) {
	var s seqChecker
	s.see(1)
	s.see(1 + maxMissing + 100)
	assert.Equal(t, int64(maxMissing+99), s.gaps())
	assert.LessOrEqual(t, len(s.missing), maxMissing)
}

func TestClaimCheck(t *testing.T) {
	tests := []struct {
		name    string
		winners []int
		want    claimCheck
	}{
		{"one winner each", []int{1, 1, 1}, claimCheck{Orders: 3, OneWinner: 3, OK: true}},
		{"no winner", []int{1, 0}, claimCheck{Orders: 2, OneWinner: 1, NoWinner: 1}},
		{"two winners", []int{2, 1}, claimCheck{Orders: 2, OneWinner: 1, ManyWinners: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := newOrderTable(16)
			for i, w := range tt.winners {
				o := tab.add(int64(i), func(*orderState) {})
				o.created.Store(true)
				o.winners.Store(int32(w))
			}
			// An order whose create failed is not checked.
			tab.add(int64(len(tt.winners)), func(*orderState) {}).winners.Store(5)
			assert.Equal(t, tt.want, checkClaims(tab))
		})
	}
}

func TestClaimers(t *testing.T) {
	const n, k = 10, 3
	for _, id := range []string{"a", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", "zz"} {
		start := claimStart([]byte(id), n)
		assert.Equal(t, start, claimStart([]byte(id), n), "deterministic")
		count := 0
		for d := range n {
			if isClaimer(d, start, k, n) {
				count++
			}
		}
		assert.Equal(t, k, count, id)
	}
	// More claimers than drivers: all of them, once.
	count := 0
	for d := range 2 {
		if isClaimer(d, 1, 5, 2) {
			count++
		}
	}
	assert.Equal(t, 2, count)
}

func TestSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var s schedule
	s.setRate(t0, 0, 20)
	assert.Equal(t, t0, s.at(0))
	assert.Equal(t, t0.Add(50*time.Millisecond), s.at(1))
	assert.Equal(t, t0.Add(time.Second), s.at(20))
	// A ramp step: from t1 on at 40/s, the next order being 20.
	t1 := t0.Add(time.Second)
	s.setRate(t1, 20, 40)
	assert.Equal(t, t1, s.at(20))
	assert.Equal(t, t1.Add(25*time.Millisecond), s.at(21))
	assert.Equal(t, int64(601), countIn(20, 30*time.Second))
	assert.Equal(t, []float64{20, 40, 60}, rampRates(config{Rate: 20, Step: 20, MaxRate: 70}))
}

func TestPassRule(t *testing.T) {
	good := func() *Result {
		return &Result{
			PickupLatency: &Percentiles{Count: 100, P99: 40},
			Claims:        &claimCheck{Orders: 10, OneWinner: 10, OK: true},
		}
	}
	tests := []struct {
		name   string
		change func(r *Result)
		pass   bool
	}{
		{"all good", func(*Result) {}, true},
		{"p99 at the target", func(r *Result) { r.PickupLatency.P99 = 100 }, false},
		{"nothing measured", func(r *Result) { r.PickupLatency.Count = 0 }, false},
		{"an error", func(r *Result) { r.ErrorsTotal = 1 }, false},
		{"a seq gap", func(r *Result) { r.Seq.Gaps = 1 }, false},
		{"a dup", func(r *Result) { r.Seq.Dups = 1 }, false},
		{"two winners", func(r *Result) { r.Claims.OK = false }, false},
		{"cross-tenant", func(r *Result) { r.CrossTenant = 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.change(r)
			r.judge(100 * time.Millisecond)
			assert.Equal(t, tt.pass, r.Pass, r.Failures)
		})
	}
}

func TestJudgeStep(t *testing.T) {
	s := &stepStats{Rate: 20, lat: newRecorder(), driversPerOrder: 2}
	s.created.Store(10)
	s.ackedInStep.Store(20)
	for range 20 {
		s.lat.record(0, 5*time.Millisecond)
		s.pickups.Add(1)
	}
	r := judgeStep(s, 0, time.Second, 100*time.Millisecond, time.Second)
	assert.True(t, r.Pass)
	assert.InDelta(t, 20, r.AchievedRate, 0.01)
	s.pickups.Store(10) // half the pickups never came
	r = judgeStep(s, 0, time.Second, 100*time.Millisecond, time.Second)
	assert.False(t, r.Pass)
	assert.Equal(t, int64(10), r.Missing)
}

// TestStepCPU: a step's CPU figures are the bench's own CPU over the step
// and its durable events per second; µs per event follow from them.
func TestStepCPU(t *testing.T) {
	s := &stepStats{lat: newRecorder()}
	s.startCPU(0, 1000)
	r := judgeStep(s, 0, time.Second, 100*time.Millisecond, time.Second)
	assert.Equal(t, -1.0, r.BenchCPU, "not measured before the step ends")
	assert.Zero(t, r.BenchUsPerEvent)

	start := time.Now()
	for time.Since(start) < 50*time.Millisecond { // burn some CPU
	}
	s.endCPU(0, 1000+500)
	r = judgeStep(s, 0, time.Second, 100*time.Millisecond, time.Second)
	assert.Positive(t, r.BenchCPU)
	assert.InDelta(t, 500/time.Since(start).Seconds(), r.DurablePerSec, 500/time.Since(start).Seconds()*0.5)
	assert.InDelta(t, r.BenchCPU*1e4/r.DurablePerSec, r.BenchUsPerEvent, 1e-9)
	assert.Equal(t, -1.0, r.ServerCPU, "no --pid")
	assert.Zero(t, r.ServerUsPerEvent)

	var res StepResult
	(&stepStats{benchPct: 50, serverPct: 100, durablePerSec: 10_000}).cpuResult(&res)
	assert.InDelta(t, 50.0, res.BenchUsPerEvent, 1e-9, "half a core for 10,000 events/s is 50 µs each")
	assert.InDelta(t, 100.0, res.ServerUsPerEvent, 1e-9)
}
