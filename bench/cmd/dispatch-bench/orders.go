package main

import (
	"hash/fnv"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// orderState is what the bench knows about one order it scheduled. The
// scheduler fills at and tenant before publishing it; the rest is atomic.
type orderState struct {
	at       time.Time // scheduled send time
	tenant   int
	step     int  // ramp step (0 in dispatch mode)
	measured bool // scheduled inside the measured window
	created  atomic.Bool
	failed   atomic.Bool // order:create answered with an error
	done     atomic.Bool // vendor's order:delivered seen
	winners  atomic.Int32
	losers   atomic.Int32
	pickups  atomic.Int32 // pickup:available reads by drivers
	id       atomic.Pointer[string]
}

const chunkSize = 4096

type orderChunk [chunkSize]orderState

// orderTable holds every scheduled order, indexed by number, readable
// without locks from any goroutine; byID maps server ids back.
type orderTable struct {
	chunks []atomic.Pointer[orderChunk]
	n      atomic.Int64 // orders published

	mu   sync.Mutex
	byID map[string]int64
}

func newOrderTable(capacity int64) *orderTable {
	return &orderTable{chunks: make([]atomic.Pointer[orderChunk], capacity/chunkSize+1), byID: map[string]int64{}}
}

// capacity is how many orders fit.
func (t *orderTable) capacity() int64 { return int64(len(t.chunks)) * chunkSize }

// add publishes order i (the scheduler's next number); only the scheduler
// calls it.
func (t *orderTable) add(i int64, fill func(*orderState)) *orderState {
	c := t.chunks[i/chunkSize].Load()
	if c == nil {
		c = new(orderChunk)
		t.chunks[i/chunkSize].Store(c)
	}
	o := &c[i%chunkSize]
	fill(o)
	t.n.Store(i + 1)
	return o
}

// get returns order i, or nil when it was never scheduled.
func (t *orderTable) get(i int64) *orderState {
	if i < 0 || i >= t.n.Load() {
		return nil
	}
	return &t.chunks[i/chunkSize].Load()[i%chunkSize]
}

// setID remembers the server's id of order i.
func (t *orderTable) setID(i int64, id string) {
	o := t.get(i)
	if o == nil || o.id.Load() != nil {
		return
	}
	t.mu.Lock()
	if o.id.Load() == nil {
		o.id.Store(&id)
		t.byID[id] = i
	}
	t.mu.Unlock()
}

func (t *orderTable) lookup(id []byte) (int64, bool) {
	t.mu.Lock()
	i, ok := t.byID[string(id)]
	t.mu.Unlock()
	return i, ok
}

// claimCheck is the outcome of the claim races.
type claimCheck struct {
	Orders        int64 `json:"orders"` // created orders checked
	OneWinner     int64 `json:"one_winner"`
	NoWinner      int64 `json:"no_winner"`
	ManyWinners   int64 `json:"many_winners"`
	AlreadyClaims int64 `json:"already_claimed"`
	OK            bool  `json:"ok"`
}

// checkClaims counts the winners of every created order.
func checkClaims(t *orderTable) claimCheck {
	var c claimCheck
	for i := range t.n.Load() {
		o := t.get(i)
		if !o.created.Load() {
			continue
		}
		c.add(int(o.winners.Load()), int(o.losers.Load()))
	}
	c.OK = c.NoWinner == 0 && c.ManyWinners == 0
	return c
}

func (c *claimCheck) add(winners, losers int) {
	c.Orders++
	c.AlreadyClaims += int64(losers)
	switch {
	case winners == 1:
		c.OneWinner++
	case winners == 0:
		c.NoWinner++
	default:
		c.ManyWinners++
	}
}

// claimStart is where an order's claimers begin among n drivers: drivers
// start, start+1, … (mod n) race for it.
func claimStart(id []byte, n int) int {
	h := fnv.New32a()
	_, _ = h.Write(id)
	return int(h.Sum32() % uint32(n))
}

// isClaimer says whether driver d is one of the k drivers racing for the
// order whose claimers begin at start.
func isClaimer(d, start, k, n int) bool {
	return (d-start+n)%n < min(k, n)
}

// schedule is the open-loop clock: order i goes out at a fixed time
// whatever happened to earlier ones. The rate may change at step
// boundaries (ramp); within a step orders are evenly spaced.
type schedule struct {
	stepStart time.Time // when the current rate began
	stepFirst int64     // first order number at the current rate
	rate      float64
}

// at is the scheduled time of order i (i ≥ stepFirst).
func (s *schedule) at(i int64) time.Time {
	return s.stepStart.Add(time.Duration(float64(i-s.stepFirst) * float64(time.Second) / s.rate))
}

// setRate switches to rate from time t on, the next order being i.
func (s *schedule) setRate(t time.Time, i int64, rate float64) {
	s.stepStart, s.stepFirst, s.rate = t, i, rate
}

// countIn is how many orders a rate schedules in d (the bound on the order
// table).
func countIn(rate float64, d time.Duration) int64 {
	return int64(math.Ceil(rate*d.Seconds())) + 1
}
