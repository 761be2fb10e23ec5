//go:build unix

package tenants

import (
	"os"
	"testing"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// bin is the dispatchd binary, built once for the package.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testproc.Main(m, "tenants", &bin))
}
