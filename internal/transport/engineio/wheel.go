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
// The wheel's goroutine is owned by the Server: started in newWheel, stopped
// and waited for by stop.
type wheel struct {
	tick  time.Duration
	mu    sync.Mutex
	slots []map[*Conn]struct{}
	pos   int // slot processed by the next tick
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

func newWheel(tick, span time.Duration) *wheel {
	n := int(span/tick) + 2
	w := &wheel{
		tick:  tick,
		slots: make([]map[*Conn]struct{}, n),
		start: time.Now(),
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
func (w *wheel) schedule(c *Conn, d time.Duration) {
	ticks := int((d + w.tick - 1) / w.tick)
	if ticks < 1 {
		ticks = 1
	}
	if ticks >= len(w.slots) {
		ticks = len(w.slots) - 1
	}
	w.mu.Lock()
	if c.wheelSlot >= 0 {
		delete(w.slots[c.wheelSlot], c)
	}
	// pos is the next slot to fire, which is one tick away.
	slot := (w.pos + ticks - 1) % len(w.slots)
	w.slots[slot][c] = struct{}{}
	c.wheelSlot = slot
	w.mu.Unlock()
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
	var due []*Conn
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		w.mu.Lock()
		slot := w.slots[w.pos]
		for c := range slot {
			due = append(due, c)
			c.wheelSlot = -1
		}
		clear(slot)
		w.pos = (w.pos + 1) % len(w.slots)
		w.mu.Unlock()
		// Fire outside the lock: a firing conn reschedules itself.
		for i, c := range due {
			c.onTimer()
			due[i] = nil
		}
		due = due[:0]
	}
}

func (w *wheel) stop() {
	close(w.done)
	w.wg.Wait()
}
