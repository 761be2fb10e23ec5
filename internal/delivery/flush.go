package delivery

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// cursorBuffer holds acknowledged cursors until the flusher writes them:
// one write per recipient per interval, however many acks came in.
type cursorBuffer struct {
	mu       sync.Mutex
	pending  map[RecipientID]Cursor
	flushing map[RecipientID]Cursor // being written now
}

func (b *cursorBuffer) put(id RecipientID, c Cursor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending == nil {
		b.pending = make(map[RecipientID]Cursor)
	}
	if old, ok := b.pending[id]; !ok || c.Pos > old.Pos {
		b.pending[id] = c
	}
}

// get returns the newest cursor of id not yet known to be stored.
func (b *cursorBuffer) get(id RecipientID) (Cursor, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.pending[id]
	if f, fok := b.flushing[id]; fok && (!ok || f.Pos > c.Pos) {
		return f, true
	}
	return c, ok
}

// take moves the pending cursors to flushing and returns them.
func (b *cursorBuffer) take() map[RecipientID]Cursor {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.pending
	b.pending = nil
	b.flushing = m
	return m
}

// done ends a write; a failed one goes back to pending, unless newer
// cursors arrived meanwhile.
func (b *cursorBuffer) done(m map[RecipientID]Cursor, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushing = nil
	if !failed {
		return
	}
	if b.pending == nil {
		b.pending = make(map[RecipientID]Cursor, len(m))
	}
	for id, c := range m {
		if old, ok := b.pending[id]; !ok || c.Pos > old.Pos {
			b.pending[id] = c
		}
	}
}

// flushTimeout bounds one write of cursors.
const flushTimeout = 5 * time.Second

func (d *Queues) flushLoop() {
	defer d.wg.Done()
	t := time.NewTicker(d.cfg.FlushInterval)
	defer t.Stop()
	// The stall sweep shares this goroutine: one ticker for the node, no
	// timer per recipient.
	sweep := time.NewTicker(stallSweepEvery(d.cfg.StallAfter))
	defer sweep.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(d.ctx, flushTimeout)
			d.flush(ctx)
			cancel()
		case now := <-sweep.C:
			d.sweepStalls(now)
		}
	}
}

// flush writes the pending cursors.
func (d *Queues) flush(ctx context.Context) {
	m := d.cursors.take()
	if len(m) == 0 {
		d.cursors.done(nil, false)
		return
	}
	err := d.recips.SaveCursors(ctx, m)
	if err != nil {
		d.zl.Warn("save cursors; will retry", zap.Int("recipients", len(m)), zap.Error(err))
	}
	d.cursors.done(m, err != nil)
}
