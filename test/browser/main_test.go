//go:build unix

package browser

import (
	"os"
	"testing"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// bin is the dispatchd binary, built once for the package by TestMain
// (with -race when the tests have it) and only read afterwards.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testproc.Main(m, "browser", &bin))
}
