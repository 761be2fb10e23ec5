//go:build linux

package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// Bounds of the sweep.
const (
	sweepSeed     = 20260415
	sweepWorkers  = 8
	sweepDeadline = 60 * time.Second // the attacker's whole run (38-42 s alone or in CI under -race)
	warmupShare   = 20               // the first 1/warmupShare of the items run before the baseline
	// orderEvery keeps the control customer under its 200 open watches
	// (tenants.max_watches) for the whole deadline: 60 s / 320 ms = 187.
	orderEvery    = 320 * time.Millisecond
	pingEvery     = 250 * time.Millisecond
	settleTimeout = 20 * time.Second
	goroutineKeep = 16       // goroutines after may exceed goroutines before by this many
	rssSlack      = 64 << 20 // RSS after may exceed RSS before by this much
	// rssSlackRace is rssSlack for a server built with -race, whose RSS
	// is mostly the race detector's shadow memory: it grows with every
	// stack and heap address touched and is never given back, so only
	// the Go heap (heapSlack) is a sharp check there.
	rssSlackRace = 256 << 20
	// heapSlack bounds the growth of the Go heap in use. Unlike RSS it
	// leaves out what the race detector keeps (its shadow and metadata
	// are never given back: golang/go#37233, #26813), so it is the
	// sharper leak check under -race.
	heapSlack = 16 << 20
)

// errorLines records the server's error-level output lines; none is
// tolerated (testproc fails the test on them at Stop), they are only
// kept to be summarised.
type errorLines struct {
	mu    sync.Mutex
	lines []string
}

func (e *errorLines) tolerate(line string) bool {
	e.mu.Lock()
	e.lines = append(e.lines, line)
	e.mu.Unlock()
	return false
}

// summary groups the lines by message.
func (e *errorLines) summary() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	count := map[string]int{}
	example := map[string]string{}
	var order []string
	for _, l := range e.lines {
		var entry struct {
			Msg string `json:"msg"`
		}
		_ = json.Unmarshal([]byte(l), &entry)
		if count[entry.Msg] == 0 {
			order = append(order, entry.Msg)
			example[entry.Msg] = l
		}
		count[entry.Msg]++
	}
	out := make([]string, 0, len(order))
	for _, m := range order {
		out = append(out, fmt.Sprintf("%d × %q, e.g. %s", count[m], m, clip(example[m], 600)))
	}
	return out
}

// TestHostileInputSweep sends 10,000 malformed and hostile frames over
// many WebSocket and polling sessions to one dispatchd while control
// clients keep using it, and checks that it survives, serves them in
// order, refuses what it must, logs no errors and gives the attack's
// memory and goroutines back.
func TestHostileInputSweep(t *testing.T) {
	secret := testproc.RandomHex(t, 32)
	ctlTenant, evilTenant := "ctl-"+testproc.RandomHex(t, 3), "evil-"+testproc.RandomHex(t, 3)
	var errs errorLines
	p := testproc.StartWith(t, bin, testproc.Options{
		Env: []string{
			"DISPATCH_JWT_SECRET=" + secret,
			"DISPATCH_DATA_DIR=" + t.TempDir(),
			"DISPATCH_LOG_LEVEL=warn",
			// Rate limits are not what this test is about.
			"DISPATCH_EVENTS_PER_SECOND=100000",
			"DISPATCH_EVENT_BURST=100000",
			// Heartbeats run during the sweep: starving them would drop
			// the control clients.
			"DISPATCH_PING_INTERVAL=1s",
			"DISPATCH_PING_TIMEOUT=2s",
		},
		Tolerate: errs.tolerate,
	})
	pid := pidOf(t, bin)
	httpc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(httpc.CloseIdleConnections)
	t.Cleanup(pollClient.CloseIdleConnections)

	tok := makeTokens(t, secret, ctlTenant, evilTenant)
	vendor := dialControl(t, p.URL, "vendor v1", "/vendors", tok.ctl[orders.RoleVendor])
	customer := dialControl(t, p.URL, "customer c1", "/customers", tok.ctl[orders.RoleCustomer])
	drivers := []*control{
		dialControl(t, p.URL, "driver d1", "/drivers", tok.ctl[orders.RoleDriver]),
		dialControl(t, p.URL, "driver d2", "/drivers", testproc.Sign(t, secret, ctlTenant, orders.RoleDriver, "d2")),
	}
	ctx := context.Background()
	for _, d := range drivers {
		res, err := d.call(ctx, "pickups:subscribe", map[string]any{})
		require.NoError(t, err, d.name)
		require.Contains(t, string(res), `"pickups":[]`, "%s: a fresh tenant has no pickups", d.name)
	}
	all := append([]*control{vendor, customer}, drivers...)
	for _, k := range all {
		k.startPinging(pingEvery)
	}

	// One order before the first sample, so that what the first order
	// allocates is in it.
	orderIDs := newOrders(vendor, customer)
	require.NoError(t, orderIDs.create(ctx))
	waitDelivered(t, drivers, orderIDs.list(), 10*time.Second)
	first := takeSample(t, httpc, p.URL, pid)

	items, planned := build(sweepSeed, tok, sweep)
	total := 0
	for _, c := range sweep {
		require.Equal(t, c.frames, planned[c.name], "frames planned for %s", c.name)
		total += c.frames
	}
	require.Equal(t, 10_000, total)

	stopOrders := orderIDs.every(orderEvery)
	peak := watchPeak(pid)
	a := newAttacker(p.URL, tok, sweepWorkers)
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, sweepDeadline)
	// The baseline is taken after the first part of the sweep: what
	// the server allocates once (buffer pools, the heap's high-water
	// mark and, under -race, its shadow memory, which is never given
	// back) is then not counted as growth; what the rest of the sweep
	// leaves behind is. The sample before the warm-up is logged too.
	warm := len(items) / warmupShare
	a.run(actx, items[:warm])
	control := float64(len(all))
	before, err := settle(httpc, p.URL, pid, func(s sample) bool { return s.sessions == control })
	require.NoError(t, err, "the warm-up's sessions closed")
	warmFrames, _, _, _ := a.totals()
	a.run(actx, items[warm:])
	overran := actx.Err() != nil
	cancel()
	elapsed := time.Since(start)
	stopOrders()
	peakRSS := peak()

	// Settle: the control clients get everything, the attacker's
	// sessions are gone, goroutines and memory come back.
	ids := orderIDs.list()
	waitDelivered(t, drivers, ids, settleTimeout)
	slack := int64(rssSlack)
	if testproc.RaceEnabled() {
		slack = rssSlackRace
	}
	after, err := settle(httpc, p.URL, pid, func(s sample) bool {
		return s.sessions == control && s.goroutines <= before.goroutines+goroutineKeep &&
			s.rss < before.rss+slack && s.heap < before.heap+heapSlack
	})
	assert.NoError(t, err, "sessions, goroutines, RSS and Go heap back near the baseline")

	frames, sessions, closed, stuck := a.totals()
	t.Logf("sweep: %d frames (planned %d) in %d items over %d sessions in %s with %d workers; server closed %d sessions; %d stuck; overran the %s deadline: %t",
		frames, total, len(items), sessions, elapsed.Round(time.Millisecond), sweepWorkers, closed, stuck, sweepDeadline, overran)
	for _, line := range a.report(sweep) {
		t.Log("  " + line)
	}
	t.Logf("RSS: at the start %s; before (after a warm-up of %d frames) %s, peak %s, after %s (limit %s); /metrics RSS before %s after %s",
		mib(float64(first.rss)), warmFrames, mib(float64(before.rss)), mib(float64(peakRSS)), mib(float64(after.rss)),
		mib(float64(before.rss+slack)), mib(before.metricRSS), mib(after.metricRSS))
	t.Logf("Go heap: in use before %s after %s (limit %s); held from the OS (sys - released) before %s after %s; Go runtime sys before %s after %s",
		mib(before.heap), mib(after.heap), mib(before.heap+heapSlack), mib(before.heapHeld), mib(after.heapHeld), mib(before.goSys), mib(after.goSys))
	t.Logf("goroutines: at the start %.0f, before %.0f, after %.0f (limit %.0f); sessions before %.0f, after %.0f",
		first.goroutines, before.goroutines, after.goroutines, before.goroutines+goroutineKeep, before.sessions, after.sessions)
	for _, k := range all {
		t.Logf("%s: %d pings, %d pongs, %d durable events, dropped %t", k.name, k.pings.Load(), k.pongs.Load(), k.count(), k.dropped.Load())
	}
	t.Logf("orders created during the sweep: %d (+1 before)", len(ids)-1)

	assert.False(t, overran, "the sweep did not finish within %s", sweepDeadline)
	assert.Equal(t, total, frames, "frames sent")
	assert.Zero(t, stuck, "sessions the server neither answered nor closed")
	if se := a.setupErrs; len(se) > 0 {
		t.Errorf("%d attacker setups failed (dial, handshake, join): %s", len(se), strings.Join(head(se, 10), "\n"))
	}
	if v := a.violations; len(v) > 0 {
		t.Errorf("%d broken expectations, first ones:\n%s", len(v), strings.Join(head(v, 25), "\n"))
	}

	// The control clients saw everything, in order, and stayed.
	assert.NoError(t, orderIDs.err(), "vendor: creating orders")
	assert.Greater(t, len(ids), int(elapsed/orderEvery)/2, "orders created during the sweep")
	for _, d := range drivers {
		checkSeqs(t, d.name, d.received("pickup:available"), ids)
	}
	checkSeqs(t, vendor.name, vendor.received("order:status"), ids)
	for _, k := range all {
		assert.False(t, k.dropped.Load(), "%s was disconnected", k.name)
		assert.Empty(t, k.errors(), "%s", k.name)
		assert.Positive(t, k.pongs.Load(), "%s: pongs", k.name)
	}

	// Alive and healthy at the end; no panic, race or error line.
	select {
	case <-p.Exited():
		t.Fatal("dispatchd exited during the sweep (see its output above)")
	default:
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		code, err := p.Status(path)
		if assert.NoError(t, err, path) {
			assert.Equal(t, http.StatusOK, code, path)
		}
	}
	for _, k := range all {
		k.close()
	}
	// A keep-alive connection the transport dialled and never used is
	// "new" to the server, and http.Server.Shutdown waits up to 5 s for
	// those: close ours so that Stop measures the server alone.
	pollClient.CloseIdleConnections()
	httpc.CloseIdleConnections()
	p.Stop(t) // fails t on error-level lines, panics and races
	if s := errs.summary(); len(s) > 0 {
		t.Logf("error-level log lines (client misbehaviour must be logged at warn at most):\n%s", strings.Join(s, "\n"))
	} else {
		t.Log("error-level log lines: none")
	}
}

// settle samples the server every 250 ms until ok holds, and returns the
// last sample; an error tells why it never held within settleTimeout.
func settle(client *http.Client, base string, pid int, ok func(sample) bool) (sample, error) {
	deadline := time.After(settleTimeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := readSample(client, base, pid)
		if err == nil && ok(s) {
			return s, nil
		}
		select {
		case <-deadline:
			if err == nil {
				err = fmt.Errorf("not within %s: last sample %+v", settleTimeout, s)
			}
			return s, err
		case <-tick.C:
		}
	}
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// waitDelivered waits until every driver has a pickup:available for each
// of ids.
func waitDelivered(t *testing.T, drivers []*control, ids []string, timeout time.Duration) {
	t.Helper()
	for _, d := range drivers {
		assert.Eventually(t, func() bool { return len(d.received("pickup:available")) >= len(ids) }, timeout, 20*time.Millisecond,
			"%s: a pickup:available for each of %d orders", d.name, len(ids))
	}
}

// watchPeak samples RSS every 200 ms until the returned func is called,
// which returns the highest value seen.
func watchPeak(pid int) func() int64 {
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := vmRSS(pid); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		return <-done
	}
}
