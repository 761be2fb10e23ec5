//go:build unix

package browser

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// loadAverage is the machine's 1-minute load, for the log.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.SplitN(string(b), " ", 2)[0]
}

// demoLink is the board's link the demo prints.
var demoLink = regexp.MustCompile(`https?://\S+/console/#token=\S+`)

// TestDemoBoardLive is the newcomer's first minute: `dispatchd demo`, then
// its printed link in a browser. The board must be connected and show
// orders and drivers on duty within 10 s of the command.
func TestDemoBoardLive(t *testing.T) {
	b := newBrowser(t) // before the clock starts: the newcomer's browser is open already
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	started := time.Now()
	cmd := exec.CommandContext(ctx, bin, "demo", "--for", "45s")
	cmd.Env = testproc.ChildEnv("DISPATCH_ADDR="+testproc.FreeAddr(t), "DISPATCH_TILE_URL=none", "DISPATCH_LOG_LEVEL=warn")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	links := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			if m := demoLink.FindString(sc.Text()); m != "" {
				select {
				case links <- m:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	var link string
	select {
	case link = <-links:
	case <-time.After(10 * time.Second):
		t.Fatal("the demo printed no board link within 10 s")
	}
	printed := time.Since(started)

	board := b.open(t, "demo board", link, 1400, 900)
	opened := time.Since(started)
	board.awaitConnState("connected", settle, "the board signs in with the demo's link")
	connected := time.Since(started)
	board.awaitJS(`document.querySelector('#drivers [data-on-duty="true"]')`, settle, "the demo's drivers show on duty")
	drivers := time.Since(started)
	board.awaitJS(`document.querySelector('#orders [data-order-id]')`, settle, "the demo's orders show")
	live := time.Since(started)
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	t.Logf("after the command: link printed %s, page opened %s, connected %s, drivers on duty %s, orders %s (load %s)",
		ms(printed), ms(opened), ms(connected), ms(drivers), ms(live), loadAverage())
	require.Less(t, live, 10*time.Second, "the board is live within 10 s of `dispatchd demo`")
	require.False(t, strings.Contains(eval[string](board, `location.href`), "token="), "the token leaves the address bar")
}
