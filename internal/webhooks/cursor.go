package webhooks

import (
	"sync"
	"time"
)

// tracker turns out-of-order completions into a cursor: the records are
// read in log order and dispatched to lanes that finish them in any
// order; the cursor is the last position with everything at or below it
// finished (or not the endpoint's).
type tracker struct {
	mu      sync.Mutex
	read    uint64    // every record up to here is dispatched or skipped
	pending []pending // dispatched and not finished, by position
}

type pending struct {
	pos  uint64
	at   time.Time // the event's time, for the lag
	done bool
}

func newTracker(pos uint64) *tracker { return &tracker{read: pos} }

// next is the first position not read yet.
func (t *tracker) next() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.read + 1
}

// skip records that nothing up to pos is for the endpoint beyond what
// was pushed.
func (t *tracker) skip(pos uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.read = max(t.read, pos)
}

// push records that pos is dispatched.
func (t *tracker) push(pos uint64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, pending{pos: pos, at: at})
	t.read = max(t.read, pos)
}

// finish records that pos is delivered or given up.
func (t *tracker) finish(pos uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.pending {
		if t.pending[i].pos == pos {
			t.pending[i].done = true
			break
		}
	}
	n := 0
	for n < len(t.pending) && t.pending[n].done {
		n++
	}
	t.pending = t.pending[n:]
}

// cursor returns the position to store, how many records wait, and the
// time of the oldest event not delivered (zero when none).
func (t *tracker) cursor() (pos uint64, waiting int, oldest time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pending) == 0 {
		return t.read, 0, time.Time{}
	}
	for _, p := range t.pending {
		if !p.done {
			waiting++
		}
	}
	return t.pending[0].pos - 1, waiting, t.pending[0].at
}
