package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSessionDetach pins that a socket's queue is left exactly once
// whichever comes first: the queue attaching or the socket leaving.
func TestSessionDetach(t *testing.T) {
	tests := []struct {
		name        string
		leaveFirst  bool
		wantSet     bool // setDetach keeps it for the disconnect
		wantByLeave int  // detach calls made by leave's result
	}{
		{name: "attached, then left", leaveFirst: false, wantSet: true, wantByLeave: 1},
		{name: "left while the queue loaded", leaveFirst: true, wantSet: false, wantByLeave: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sess session
			calls := 0
			detach := func() { calls++ }
			byLeave := 0
			if tc.leaveFirst {
				require.Nil(t, sess.leave())
			}
			set := sess.setDetach(detach)
			require.Equal(t, tc.wantSet, set)
			if !set {
				detach() // what attach does then
			}
			if !tc.leaveFirst {
				if d := sess.leave(); d != nil {
					d()
					byLeave++
				}
			}
			require.Equal(t, tc.wantByLeave, byLeave)
			require.Equal(t, 1, calls, "detached exactly once")
			require.Nil(t, sess.leave(), "a second leave detaches nothing")
		})
	}
}
