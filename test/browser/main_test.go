//go:build unix

package browser

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// bin is the dispatchd binary and chrome the one Chromium (nil when it
// is not installed), both made once for the package by TestMain and only
// read afterwards.
var (
	bin    string
	chrome *browser
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run is testproc.Main with a Chromium around the tests: it has to stop
// before the goroutine leak check, which chromedp's would fail.
func run(m *testing.M) int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "dispatchd-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	if bin, err = testproc.Build(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("built dispatchd (race: %t) in %s\n", testproc.RaceEnabled(), time.Since(start).Round(time.Millisecond))
	}
	stop := func() {}
	if path, ok := chromium(); ok {
		start = time.Now()
		if chrome, stop, err = startChromium(path, filepath.Join(dir, "profile")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if testing.Verbose() {
			fmt.Printf("started %s in %s\n", path, time.Since(start).Round(time.Millisecond))
		}
	}
	code := m.Run()
	// Stopped before the leak check, which would see chromedp's goroutines.
	stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines outlived the tests:", err)
			return 1
		}
	}
	return code
}
