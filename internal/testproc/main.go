package testproc

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Main is a test package's TestMain body for tests of the real binary: it
// builds dispatchd once into a temporary directory (with -race when the
// tests have it), sets *bin to its path, runs the tests, fails the run if
// goroutines outlive them, and returns the exit code.
func Main(m *testing.M, name string, bin *string) int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "dispatchd-"+name+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	if *bin, err = Build(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("built dispatchd (race: %t) in %s\n", RaceEnabled(), time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines outlived the tests:", err)
			return 1
		}
	}
	return code
}
