package main

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Event kinds with their own counters; the rest go to a map.
const (
	evPickupAvailable = iota
	evPickupTaken
	evOrderStatus
	evOrderDelivered
	evDriverLocation
	evOther
	evKinds
)

var eventNames = [evKinds]string{"pickup:available", "pickup:taken", "order:status", "order:delivered", "driver:location", ""}

// stats are the run's counters, safe for every goroutine.
type stats struct {
	sent, acked, ackedInWindow, completed, pickups atomic.Int64
	crossTenant                                    atomic.Int64
	durable                                        atomic.Int64 // events received carrying a seq
	events                                         [evKinds]atomic.Int64
	errorsTotal                                    atomic.Int64

	mu     sync.Mutex
	errors map[string]int64
	other  map[string]int64

	pickupLat, completeLat *recorder
}

func newStats() *stats {
	return &stats{errors: map[string]int64{}, other: map[string]int64{}, pickupLat: newRecorder(), completeLat: newRecorder()}
}

// countEvent counts one received event and returns its kind.
func (s *stats) countEvent(name []byte) int {
	for k := range evOther {
		if string(name) == eventNames[k] {
			s.events[k].Add(1)
			return k
		}
	}
	s.events[evOther].Add(1)
	s.mu.Lock()
	s.other[string(name)]++
	s.mu.Unlock()
	return evOther
}

// fail counts one error by code.
func (s *stats) fail(code string) { s.failN(code, 1) }

func (s *stats) failN(code string, n int64) {
	s.errorsTotal.Add(n)
	s.mu.Lock()
	s.errors[code] += n
	s.mu.Unlock()
}

func (s *stats) errorsByCode() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.errors)
}

func (s *stats) eventsByName() map[string]int64 {
	s.mu.Lock()
	out := maps.Clone(s.other)
	s.mu.Unlock()
	for k := range evOther {
		if n := s.events[k].Load(); n > 0 {
			out[eventNames[k]] = n
		}
	}
	return out
}

// stepStats measure one ramp step (dispatch mode has one: the measured
// window). Orders belong to the step they were scheduled in, so their late
// pickups still count against it.
type stepStats struct {
	Rate float64 `json:"rate"`

	from, to        time.Time
	lat             *recorder
	created         atomic.Int64 // create acks of this step's orders
	ackedInStep     atomic.Int64 // create acks arriving during the step, whoever's
	pickups         atomic.Int64
	errorsAtStart   int64
	driversPerOrder int64

	// CPU of the bench and of --pid over the step, written by the
	// scheduler before the step is judged (judged after to + grace).
	cpuMu               sync.Mutex
	cpuAt               time.Time
	benchCPU, serverCPU time.Duration // at the start, then spent in the step
	benchPct, serverPct float64       // -1 until the step has ended
	durable             int64         // durable events received: at the start, then in the step
	durablePerSec       float64
}

// startCPU notes both processes' CPU as the step starts.
func (s *stepStats) startCPU(pid int, durable int64) {
	s.cpuMu.Lock()
	defer s.cpuMu.Unlock()
	s.cpuAt, s.benchCPU, s.benchPct, s.serverPct, s.durable = time.Now(), selfCPU(), -1, -1, durable
	if pid > 0 {
		if ps, err := readProc(pid); err == nil {
			s.serverCPU = ps.cpu
		}
	}
}

// endCPU turns the CPU spent since startCPU into percent of one core.
func (s *stepStats) endCPU(pid int, durable int64) {
	s.cpuMu.Lock()
	defer s.cpuMu.Unlock()
	dt := time.Since(s.cpuAt).Seconds()
	if dt <= 0 {
		return
	}
	s.durablePerSec = float64(durable-s.durable) / dt
	s.benchPct = 100 * (selfCPU() - s.benchCPU).Seconds() / dt
	if pid > 0 {
		if ps, err := readProc(pid); err == nil {
			s.serverPct = 100 * (ps.cpu - s.serverCPU).Seconds() / dt
		}
	}
}

// cpuResult fills the step's CPU figures into res.
func (s *stepStats) cpuResult(res *StepResult) {
	s.cpuMu.Lock()
	defer s.cpuMu.Unlock()
	res.BenchCPU, res.ServerCPU, res.DurablePerSec = s.benchPct, s.serverPct, s.durablePerSec
	if s.durablePerSec > 0 && s.benchPct >= 0 {
		// percent of a core per event/s is 10,000 µs per event
		res.BenchUsPerEvent = s.benchPct * 1e4 / s.durablePerSec
		if s.serverPct >= 0 {
			res.ServerUsPerEvent = s.serverPct * 1e4 / s.durablePerSec
		}
	}
}

// stepSet is the list of steps; the scheduler appends, readers look up by
// index (step -1 is the warmup and records nothing).
type stepSet struct {
	mu    sync.RWMutex
	steps []*stepStats
}

func (ss *stepSet) add(s *stepStats) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.steps = append(ss.steps, s)
	return len(ss.steps) - 1
}

func (ss *stepSet) get(i int) *stepStats {
	if i < 0 {
		return nil
	}
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	if i >= len(ss.steps) {
		return nil
	}
	return ss.steps[i]
}

func (ss *stepSet) current(now time.Time) *stepStats {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	for _, s := range ss.steps {
		if !now.Before(s.from) && now.Before(s.to) {
			return s
		}
	}
	return nil
}

func (ss *stepSet) created(step int, now time.Time) {
	if s := ss.get(step); s != nil {
		s.created.Add(1)
	}
	if s := ss.current(now); s != nil {
		s.ackedInStep.Add(1)
	}
}

func (ss *stepSet) pickup(step, shard int, lat time.Duration) {
	if s := ss.get(step); s != nil {
		s.pickups.Add(1)
		s.lat.record(shard, lat)
	}
}
