package engineio

import (
	"sync"
	"time"
)

// wheel is a hashed timing wheel shared by every session of a server, so an
// idle session costs no runtime timer. Each session has at most one pending
// deadline (next ping, or pong due). Deadlines are never further ahead than
// one revolution, so one slot per tick suffices.
//
// Ticks are counted on the clock from start, not by the ticker's deliveries:
// a time.Ticker drops the ticks of a late receiver, and a wheel that stepped
// once per delivery would push every pending deadline back by any stall of
// its goroutine. After a stall, run fires every slot that fell due.
//
// The wheel's goroutine is owned by the Server: started in newWheel, stopped
// and waited for by stop.
type wheel struct {
	tick  time.Duration
	mu    sync.Mutex
	slots []map[*Conn]struct{}
	next  int64     // number of the next tick to process; its slot is next % len(slots)
	start time.Time // tick n falls due at start + n*tick
	done  chan struct{}
	wg    sync.WaitGroup
}

func newWheel(tick, span time.Duration) *wheel {
	n := int(span/tick) + 2
	w := &wheel{
		tick:  tick,
		slots: make([]map[*Conn]struct{}, n),
		start: time.Now(),
		next:  1,
		done:  make(chan struct{}),
	}
	for i := range w.slots {
		w.slots[i] = make(map[*Conn]struct{})
	}
	w.wg.Add(1)
	go w.run()
	return w
}

// schedule (re)arms c to fire after d; it replaces c's previous deadline.
// c fires on the last tick at or before now+d (so up to one tick early).
func (w *wheel) schedule(c *Conn, d time.Duration) {
	w.scheduleTick(c, int64((time.Since(w.start)+d)/w.tick))
}

// scheduleTick (re)arms c to fire on tick due, or on the next tick processed
// if due has passed, and never later than one revolution ahead.
func (w *wheel) scheduleTick(c *Conn, due int64) {
	w.mu.Lock()
	due = min(max(due, w.next), w.next+int64(len(w.slots))-1)
	if c.wheelSlot >= 0 {
		delete(w.slots[c.wheelSlot], c)
	}
	slot := int(due % int64(len(w.slots)))
	w.slots[slot][c] = struct{}{}
	c.wheelSlot = slot
	w.mu.Unlock()
}

// now is the number of the last tick that has fallen due.
func (w *wheel) now() int64 {
	return int64(time.Since(w.start) / w.tick)
}

// ticks is how many whole ticks d spans.
func (w *wheel) ticks(d time.Duration) int64 {
	return int64(d / w.tick)
}

func (w *wheel) remove(c *Conn) {
	w.mu.Lock()
	if c.wheelSlot >= 0 {
		delete(w.slots[c.wheelSlot], c)
		c.wheelSlot = -1
	}
	w.mu.Unlock()
}

func (w *wheel) run() {
	defer w.wg.Done()
	t := time.NewTicker(w.tick)
	defer t.Stop()
	type firing struct {
		c    *Conn
		tick int64
	}
	var due []firing
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		now := w.now()
		w.mu.Lock()
		// Every slot once at most: after a stall longer than a revolution
		// all of them are due, and each holds one tick's deadlines.
		from := max(w.next, now-int64(len(w.slots))+1)
		for n := from; n <= now; n++ {
			slot := w.slots[n%int64(len(w.slots))]
			for c := range slot {
				due = append(due, firing{c, n})
				c.wheelSlot = -1
			}
			clear(slot)
		}
		w.next = max(w.next, now+1)
		w.mu.Unlock()
		// Fire outside the lock: a firing conn reschedules itself.
		for i, f := range due {
			f.c.onTimer(f.tick)
			due[i] = firing{}
		}
		due = due[:0]
	}
}

func (w *wheel) stop() {
	close(w.done)
	w.wg.Wait()
}
