package dispatch

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestSessionSize keeps a socket's session, event budget included, in the
// 144 B size class: there is one per socket (docs/BENCHMARKS.md, issue
// #16 goal 4).
func TestSessionSize(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(session{}), uintptr(144))
}
