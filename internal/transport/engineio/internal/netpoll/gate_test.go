package netpoll

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGateStates(t *testing.T) {
	tests := []struct {
		name      string
		events    int  // Start calls while the reader holds the gate
		wantLeave bool // the reader's first Stop
	}{
		{name: "no event while reading", events: 0, wantLeave: true},
		{name: "one event while reading", events: 1, wantLeave: false},
		{name: "several events fold into one", events: 3, wantLeave: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Gate
			require.True(t, g.Start(), "idle: the event starts a reader")
			for range tt.events {
				require.False(t, g.Start(), "busy: no second reader")
			}
			assert.Equal(t, tt.wantLeave, g.Stop())
			if !tt.wantLeave {
				assert.True(t, g.Stop(), "one re-read answers every event before it")
			}
			assert.True(t, g.Start(), "idle again")
		})
	}
	var g Gate
	g.Hold()
	assert.False(t, g.Start(), "a held gate has its reader")
}

// Events racing a reader that stops: every event is either the start of
// a reader or seen by the running one before it leaves (run with -race).
func TestGateLosesNoEvent(t *testing.T) {
	var (
		g       Gate
		pending atomic.Int64 // events not yet answered by a read
		readers atomic.Int32
		wg      sync.WaitGroup
	)
	read := func() {
		defer wg.Done()
		assert.Equal(t, int32(1), readers.Add(1), "two readers at once")
		for {
			pending.Store(0) // a read answers every event before it began
			readers.Add(-1)
			left := g.Stop()
			if left {
				return
			}
			assert.Equal(t, int32(1), readers.Add(1), "two readers at once")
		}
	}
	for range 20000 {
		pending.Add(1)
		if g.Start() {
			wg.Add(1)
			go read()
		}
	}
	wg.Wait()
	assert.Zero(t, pending.Load(), "an event nobody read for")
}
