package delivery

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestRecipientSize keeps a user's queue in the 240 B size class: there
// is one per connected user, so a field that pushes it to 256 B costs 16 B
// on every socket (docs/BENCHMARKS.md, issue #16 goal 4).
func TestRecipientSize(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(recipient{}), uintptr(240))
}
