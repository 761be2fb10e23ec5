//go:build unix

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// TestKillOneOfTwoNodes runs two nodes on one PostgreSQL schema and one
// external NATS stream, with 100 subscribed drivers split between them,
// while a vendor posts orders through node B at a steady pace. Midway node
// A is killed with SIGKILL; its drivers reconnect to B with the same
// tokens. Every driver must end with every pickup, none lost, in order,
// seqs consecutive, duplicates only as redeliveries right after the
// reconnect.
func TestKillOneOfTwoNodes(t *testing.T) {
	urls := requireEnv(t, "DISPATCH_TEST_DATABASE_URL", "DISPATCH_TEST_NATS_URL")
	dbURL, natsURL := urls[0], urls[1]
	const (
		driverCount = 100
		orderCount  = 120 // 12,000 deliveries
		killAfter   = 60  // node A dies as order 61 is being delivered
		pace        = 80 * time.Millisecond
	)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()

	secret, tenant := testproc.RandomHex(t, 32), "kill-"+testproc.RandomHex(t, 3)
	db := testproc.FreshSchema(t, dbURL, "faults")
	stream, prefix := sharedStream(t, natsURL)
	env := func() []string {
		return []string{
			"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn",
			"DISPATCH_DATABASE_URL=" + db, "DISPATCH_NATS_URL=" + natsURL,
			"DISPATCH_NATS_STREAM=" + stream, "DISPATCH_NATS_PREFIX=" + prefix,
		}
	}
	a := testproc.StartWith(t, bin, testproc.Options{Name: "node-a", Env: env()})
	b := testproc.StartWith(t, bin, testproc.Options{Name: "node-b", Env: env()})

	drivers := make([]*driver, driverCount)
	onA := func(i int) bool { return i%2 == 0 }
	for i := range drivers {
		node := b
		if onA(i) {
			node = a
		}
		sub := fmt.Sprintf("d%03d", i)
		drivers[i] = newDriver(sub, testproc.Sign(t, secret, tenant, orders.RoleDriver, sub), node.URL)
		defer drivers[i].start(t, true)()
	}

	v := newVendor(b.URL, testproc.Sign(t, secret, tenant, orders.RoleVendor, "v1"))
	want := make([]string, 0, orderCount)
	tick := time.NewTicker(pace)
	defer tick.Stop()
	start := time.Now()
	var killedAt time.Time
	for i := range orderCount {
		id, _, err := v.create(ctx, i)
		require.NoError(t, err)
		want = append(want, id)
		if i == killAfter {
			// Kill A while this order's deliveries are on the wire: as
			// soon as the first of A's drivers has it, most acks are
			// in flight or younger than the cursor flush.
			require.Eventually(t, func() bool { return drivers[0].distinct() > killAfter }, 10*time.Second, time.Millisecond)
			for j, d := range drivers {
				if onA(j) {
					d.target.Store(&b.URL)
				}
			}
			killedAt = time.Now()
			a.Kill(t)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	t.Logf("created %d orders in %s; node A killed after %d", orderCount, time.Since(start).Round(time.Millisecond), killAfter)

	for _, d := range drivers {
		require.Eventually(t, func() bool { return d.distinct() == orderCount }, time.Until(deadline(ctx)), 20*time.Millisecond,
			"%s: every order", d.name)
	}
	t.Logf("every driver had every order %s after the first create", time.Since(start).Round(time.Millisecond))

	var deliveries, duplicates int
	var replays, firsts []time.Duration
	for i, d := range drivers {
		got, conns, _, errs := d.snapshot()
		assert.Empty(t, errs, d.name)
		st := checkStream(t, d.name, got, conns, want, nil)
		checkReplayTail(t, d.name, got)
		deliveries += st.deliveries
		duplicates += st.duplicates
		if !onA(i) {
			assert.Len(t, conns, 1, "%s: on node B all along", d.name)
			assert.Zero(t, st.duplicates, "%s: duplicates without a reconnect", d.name)
			continue
		}
		if !assert.Len(t, conns, 2, "%s: one reconnect, to node B", d.name) {
			continue
		}
		assert.True(t, conns[1].After(killedAt), "%s reconnected before the kill", d.name)
		replays = append(replays, st.replays...)
		firsts = append(firsts, st.firsts...)
	}
	t.Logf("kill -9: %d drivers (%d reconnected), %d orders: %d deliveries, %d duplicates (%.2f%%)",
		driverCount, driverCount/2, orderCount, deliveries, duplicates, 100*float64(duplicates)/float64(deliveries))
	t.Logf("replay, reconnect dial to the first event new to the client: %s", fmtDurations(replays))
	t.Logf("reconnect dial to the first event (a redelivery or new): %s", fmtDurations(firsts))
	assert.GreaterOrEqual(t, deliveries, 10_000)
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
