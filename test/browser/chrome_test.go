//go:build unix

package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// actionTimeout bounds one browser action (a navigation, an evaluation).
const actionTimeout = 15 * time.Second

// chromium finds Debian's chromium: /usr/bin/chromium, else `chromium` on
// PATH.
func chromium() (string, bool) {
	for _, name := range []string{"/usr/bin/chromium", "chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// needChromium skips t without chromium, with a note on stderr that a
// `go test` summary cannot hide.
func needChromium(t *testing.T) {
	t.Helper()
	if _, ok := chromium(); !ok {
		fmt.Fprintf(os.Stderr, "\n*** %s SKIPPED: no chromium here; install it with `apt-get install -y chromium` (.ci/run does) ***\n\n", t.Name())
		t.Skip("no chromium: apt-get install -y chromium")
	}
}

// browser is the package's one headless Chromium, started by TestMain;
// each role of each test opens its own browser context in it (no shared
// cookies or storage), so tests share only the process.
type browser struct {
	root context.Context
}

// startChromium starts the chromium at path with a fresh profile in dir;
// stop ends it and waits for it.
func startChromium(path, dir string) (b *browser, stop func(), err error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(dir),
		// As root in a container with no network beyond loopback.
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		// Several pages live side by side: none may be throttled as a
		// background tab, or the tracking page's polling would be slowed
		// to once a second and the latency measured would be the throttle's.
		chromedp.Flag("disable-background-timer-throttling", true), chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(1400, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	stop = func() {
		cancelRoot()
		cancelAlloc()
	}
	if err := chromedp.Do(root); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start %s: %w", path, err)
	}
	return &browser{root: root}, stop, nil
}

// newBrowser is the package's Chromium, or a loud skip without one.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	needChromium(t)
	if chrome == nil {
		t.Fatal("chromium is installed but TestMain did not start it")
	}
	return chrome
}

// tab is one page in its own browser context. Its console errors,
// uncaught exceptions and browser-log errors fail the test at cleanup,
// except network errors stamped within an outage (a server restart on
// purpose).
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	*recorder
}

// recorder keeps what went wrong in a page; chromedp's event goroutine
// writes it.
type recorder struct {
	closeOnce func() // closes the tab and reports, once
	// The outage the test caused, in Unix ms: from its start to when the
	// page was back (0: still on). The browser's own stamp of an entry
	// decides, not when the entry reaches the test.
	outageFrom, outageTo atomic.Int64
	allow                func(msg string) bool // set before any event

	mu        sync.Mutex
	problems  []string
	tolerated int
}

// close closes the tab and reports its problems; t's cleanup does it
// too, but a test that restarts the server closes it first, or the page
// would see the new server stop before it closed.
func (tb *tab) close() { tb.closeOnce() }

// in is the same tab for a subtest t.
func (tb *tab) in(t *testing.T) *tab {
	return &tab{t: t, name: tb.name, ctx: tb.ctx, recorder: tb.recorder}
}

// open makes a new browser context for role name, with the DOM observer
// (observer.js) installed before any page script runs, and navigates to
// url; it does not wait for more than the load.
func (b *browser) open(t *testing.T, name, url string, width, height int64) *tab {
	t.Helper()
	return b.openAllowing(t, name, url, width, height, nil)
}

// openAllowing is open with allow exempting the browser-log entries the
// test expects (a 404 the page asks for on purpose); nil exempts none.
func (b *browser) openAllowing(t *testing.T, name, url string, width, height int64, allow func(msg string) bool) *tab {
	t.Helper()
	tb := &tab{t: t, name: name, recorder: &recorder{allow: allow}}
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	tb.closeOnce = sync.OnceFunc(func() {
		cancel()
		tb.report()
	})
	t.Cleanup(tb.close)
	tb.ctx = ctx
	require.NoError(t, chromedp.Do(ctx), "%s: open a tab", name)
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: observerJS})
	require.NoError(t, err, "%s: install the observer", name)
	tb.do(chromedp.EmulateViewport(width, height), chromedp.Navigate(url))
	return tb
}

// do runs actions, failing the test on an error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	require.NoError(tb.t, chromedp.Do(ctx, actions...), "%s", tb.name)
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(tb.t, err, "%s: evaluate %s", tb.name, expr)
	return v
}

// listen runs on chromedp's event goroutine: it only records.
func (tb *tab) listen(ev any) {
	var msg string
	var network float64 // the stamp of a network error
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		parts := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			parts = append(parts, remoteText(a))
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + remoteText(d.Exception)
		}
		msg = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, text)
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		if ev.Entry.Source == log.EntrySourceNetwork {
			network = ev.Entry.Timestamp.Float64()
		}
		msg = fmt.Sprintf("browser log (%s, at %d): %s %s", ev.Entry.Source, int64(ev.Entry.Timestamp.Float64()), ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if (network != 0 && tb.inOutage(int64(network))) || (tb.allow != nil && tb.allow(msg)) {
		tb.tolerated++
		return
	}
	tb.problems = append(tb.problems, msg)
}

// inOutage reports whether ms (Unix) falls within the outage.
func (r *recorder) inOutage(ms int64) bool {
	from, to := r.outageFrom.Load(), r.outageTo.Load()
	return from != 0 && ms >= from && (to == 0 || ms <= to)
}

// remoteText is what the console would print for a value.
func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Description != "" {
		return o.Description
	}
	if len(o.Value) > 0 {
		return string(o.Value)
	}
	return string(o.Type)
}

func (tb *tab) report() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.tolerated > 0 {
		tb.t.Logf("%s: %d expected browser-log error(s) (during the outage, or allowed)", tb.name, tb.tolerated)
	}
	for _, p := range tb.problems {
		tb.t.Errorf("%s: %s", tb.name, p)
	}
}
