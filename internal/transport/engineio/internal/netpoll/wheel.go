package netpoll

import (
	"sync"
	"time"
)

// Wheel is a hashed timing wheel shared by every session of a server, so an
// idle session costs no runtime timer. Each session has at most one pending
// deadline (next ping, or pong due). Deadlines are never further ahead than
// one revolution, so one slot per tick suffices.
//
// Ticks are counted on the clock from start, not by the ticker's deliveries:
// a time.Ticker drops the ticks of a late receiver, and a wheel that stepped
// once per delivery would push every pending deadline back by any stall of
// its goroutine. After a stall, run fires every slot that fell due.
//
// T is the session type (a pointer). Each session keeps its slot number
// (slotOf, -1 when none, guarded by the wheel's lock) so rescheduling is
// one map delete; fire is called outside the lock, for the tick the
// session was due on, and may reschedule it.
//
// Goroutines: run, started by NewWheel, stopped and waited for by Stop.
type Wheel[T comparable] struct {
	tick   time.Duration
	slotOf func(T) *int
	fire   func(T, int64)
	mu     sync.Mutex
	slots  []map[T]struct{}
	next   int64     // number of the next tick to process; its slot is next % len(slots)
	start  time.Time // tick n falls due at start + n*tick
	done   chan struct{}
	wg     sync.WaitGroup
}

// NewWheel starts a wheel of the given tick whose deadlines reach at most
// span ahead.
func NewWheel[T comparable](tick, span time.Duration, slotOf func(T) *int, fire func(T, int64)) *Wheel[T] {
	n := int(span/tick) + 2
	w := &Wheel[T]{
		tick:   tick,
		slotOf: slotOf,
		fire:   fire,
		slots:  make([]map[T]struct{}, n),
		start:  time.Now(),
		next:   1,
		done:   make(chan struct{}),
	}
	for i := range w.slots {
		w.slots[i] = make(map[T]struct{})
	}
	w.wg.Add(1)
	go w.run()
	return w
}

// Schedule (re)arms c to fire after d; it replaces c's previous deadline.
// c fires on the last tick at or before now+d (so up to one tick early).
func (w *Wheel[T]) Schedule(c T, d time.Duration) {
	w.ScheduleTick(c, int64((time.Since(w.start)+d)/w.tick))
}

// ScheduleTick (re)arms c to fire on tick due, or on the next tick processed
// if due has passed, and never later than one revolution ahead.
func (w *Wheel[T]) ScheduleTick(c T, due int64) {
	w.mu.Lock()
	due = min(max(due, w.next), w.next+int64(len(w.slots))-1)
	slotp := w.slotOf(c)
	if *slotp >= 0 {
		delete(w.slots[*slotp], c)
	}
	slot := int(due % int64(len(w.slots)))
	w.slots[slot][c] = struct{}{}
	*slotp = slot
	w.mu.Unlock()
}

// Now is the number of the last tick that has fallen due.
func (w *Wheel[T]) Now() int64 {
	return int64(time.Since(w.start) / w.tick)
}

// Ticks is how many whole ticks d spans.
func (w *Wheel[T]) Ticks(d time.Duration) int64 {
	return int64(d / w.tick)
}

// Remove cancels c's deadline, if any.
func (w *Wheel[T]) Remove(c T) {
	w.mu.Lock()
	if slotp := w.slotOf(c); *slotp >= 0 {
		delete(w.slots[*slotp], c)
		*slotp = -1
	}
	w.mu.Unlock()
}

// Stall stops the wheel, as a starved scheduler would, until release is
// called: for tests of what happens when it runs late.
func (w *Wheel[T]) Stall() (release func()) {
	w.mu.Lock()
	return w.mu.Unlock
}

func (w *Wheel[T]) run() {
	defer w.wg.Done()
	t := time.NewTicker(w.tick)
	defer t.Stop()
	type firing struct {
		c    T
		tick int64
	}
	var due []firing
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		now := w.Now()
		w.mu.Lock()
		// Every slot once at most: after a stall longer than a revolution
		// all of them are due, and each holds one tick's deadlines.
		from := max(w.next, now-int64(len(w.slots))+1)
		for n := from; n <= now; n++ {
			slot := w.slots[n%int64(len(w.slots))]
			for c := range slot {
				due = append(due, firing{c, n})
				*w.slotOf(c) = -1
			}
			clear(slot)
		}
		w.next = max(w.next, now+1)
		w.mu.Unlock()
		// Fire outside the lock: a firing session reschedules itself.
		for i, f := range due {
			w.fire(f.c, f.tick)
			due[i] = firing{}
		}
		due = due[:0]
	}
}

// Stop ends the wheel's goroutine and waits for it; nothing fires after.
func (w *Wheel[T]) Stop() {
	close(w.done)
	w.wg.Wait()
}
