//go:build unix

package faults

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// TestSilentClient: a driver that never acknowledges holds at most two
// windows (64, and the probes' second one past it) of events in flight and
// does not slow down a driver that does; once it starts acknowledging it
// receives the rest, in order.
func TestSilentClient(t *testing.T) {
	const (
		orderCount = 500
		window     = 64 // delivery.window's default
		// inFlight is what a client that acks nothing ends up holding:
		// the window, and a second one sent by probes past it, one per
		// delivery.probe_after (250 ms), about 16 s.
		inFlight = 2 * window
		// normalBound is how long the acking driver may take to have
		// every order, from the first create (on a 2-core CI runner,
		// -race, SQLite).
		normalBound = 20 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	secret, tenant := testproc.RandomHex(t, 32), "silent-"+testproc.RandomHex(t, 3)
	node := testproc.Start(t, bin, append([]string{"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn"},
		unlimitedVendor()...)...)

	normal := newDriver("normal", testproc.Sign(t, secret, tenant, orders.RoleDriver, "d-normal"), node.URL)
	silent := newDriver("silent", testproc.Sign(t, secret, tenant, orders.RoleDriver, "d-silent"), node.URL)
	silent.ackFrom.Store(math.MaxInt64)
	defer normal.start(t, true)()
	defer silent.start(t, true)()

	v := newVendor(node.URL, testproc.Sign(t, secret, tenant, orders.RoleVendor, "v1"))
	want := make([]string, 0, orderCount)
	start := time.Now()
	for i := range orderCount {
		id, _, err := v.create(ctx, i)
		require.NoError(t, err)
		want = append(want, id)
	}
	created := time.Since(start)
	require.Eventually(t, func() bool { return normal.distinct() == orderCount }, normalBound, 10*time.Millisecond,
		"the acking driver must have all %d orders within %s of the first create", orderCount, normalBound)
	normalTook := time.Since(start)
	t.Logf("created %d orders in %s; the acking driver had all of them %s after the first create", orderCount,
		created.Round(time.Millisecond), normalTook.Round(time.Millisecond))

	// Every record has been routed (the normal driver has them all): the
	// silent driver's window is full, probes add a second one, then
	// nothing more is on its way.
	require.Eventually(t, func() bool { _, _, held, _ := silent.snapshot(); return held == inFlight }, 30*time.Second, 10*time.Millisecond)
	time.Sleep(time.Second) // four probe periods: none more
	got, _, held, errs := silent.snapshot()
	assert.Empty(t, errs)
	assert.Equal(t, inFlight, held, "unacknowledged events in flight to the silent driver")
	assert.Len(t, got, inFlight, "events the silent driver received without acking any")

	ackStart := time.Now()
	silent.ackNow <- struct{}{}
	require.Eventually(t, func() bool { return silent.distinct() == orderCount }, 30*time.Second, 10*time.Millisecond,
		"the silent driver, acking now, must receive the rest")
	t.Logf("the silent driver received the other %d orders %s after it started acking", orderCount-inFlight,
		time.Since(ackStart).Round(time.Millisecond))

	for _, d := range []*driver{normal, silent} {
		got, conns, _, errs := d.snapshot()
		assert.Empty(t, errs, d.name)
		assert.Len(t, conns, 1, "%s: the connection never dropped", d.name)
		st := checkStream(t, d.name, got, conns, want, nil)
		assert.Zero(t, st.duplicates, fmt.Sprintf("%s: duplicates without a reconnect", d.name))
	}
}
