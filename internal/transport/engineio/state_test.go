package engineio

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTransitionTable pins the session's life: every phase against every
// event, so a change to the table is a change to this test.
func TestTransitionTable(t *testing.T) {
	const none = phase(255) // ev changes nothing
	all := []phase{phaseOpen, phaseUpgrading, phaseClosed, phaseClosedTold, phaseDropped}
	want := map[event][5]phase{ // indexed by from, in the order of all
		evProbeAnswered: {phaseUpgrading, none, none, none, none},
		evProbeDropped:  {none, phaseOpen, none, none, none},
		evUpgraded:      {phaseOpen, phaseOpen, none, none, none},
		evEnd:           {phaseClosed, phaseClosed, none, none, none},
		evEndTold:       {phaseClosedTold, phaseClosedTold, none, none, none},
		evEndDrop:       {phaseDropped, phaseDropped, none, none, none},
		evTold:          {none, none, phaseClosedTold, none, none},
	}
	for ev, tos := range want {
		for i, from := range all {
			got, ok := next(from, ev)
			if tos[i] == none {
				assert.False(t, ok, "event %d from phase %d", ev, from)
				assert.Equal(t, from, got, "a refused event keeps the phase")
				continue
			}
			assert.True(t, ok, "event %d from phase %d", ev, from)
			assert.Equal(t, tos[i], got, "event %d from phase %d", ev, from)
		}
	}
}

func TestUpgradeIsTheOnlyKindChange(t *testing.T) {
	for ev := evProbeAnswered; ev <= evTold; ev++ {
		c := &Conn{kind: kindPolling}
		c.transitionLocked(ev)
		assert.Equal(t, ev == evUpgraded, c.kind == kindWebSocket, "event %d", ev)
	}
}
