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

// TestRestartEmbeddedNode kills (SIGKILL) a single node running on
// embedded NATS and SQLite while its drivers have events queued, starts
// it again on the same data directory, and checks that the drivers
// receive everything queued before the kill, in order, with seqs 1..N.
func TestRestartEmbeddedNode(t *testing.T) {
	const (
		driverCount = 5
		orderCount  = 100 // more than a window: some were never sent before the kill
		window      = 64
	)
	tests := []struct {
		name string
		// silent drivers stay connected and do not ack until the node is
		// back; the others disconnect before the orders are created.
		silent bool
	}{
		{name: "offline"},
		{name: "silent", silent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			secret, tenant := testproc.RandomHex(t, 32), "restart-"+testproc.RandomHex(t, 3)
			node := testproc.Start(t, bin, append([]string{"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn"},
				unlimitedVendor()...)...)

			drivers := make([]*driver, driverCount)
			stops := make([]func(), driverCount)
			for i := range drivers {
				sub := fmt.Sprintf("d%d", i)
				drivers[i] = newDriver(sub, testproc.Sign(t, secret, tenant, orders.RoleDriver, sub), node.URL)
				if tt.silent {
					drivers[i].ackFrom.Store(1) // from the first connection after the restart
				}
				stops[i] = drivers[i].start(t, true)
				defer stops[i]()
			}
			if !tt.silent {
				for _, stop := range stops {
					stop()
				}
			}

			v := newVendor(node.URL, testproc.Sign(t, secret, tenant, orders.RoleVendor, "v1"))
			want := make([]string, 0, orderCount)
			for i := range orderCount {
				id, _, err := v.create(ctx, i)
				require.NoError(t, err)
				want = append(want, id)
			}
			if tt.silent {
				for _, d := range drivers {
					// A full window, and maybe a few probes past it (one
					// per delivery.probe_after while nothing is acked, up
					// to a second window).
					require.Eventually(t, func() bool { _, _, held, _ := d.snapshot(); return held >= window }, 10*time.Second, 10*time.Millisecond,
						"%s: a full window in flight before the kill", d.name)
				}
			}

			node.Kill(t)
			start := time.Now()
			node.Restart(t)
			t.Logf("node back (ready) %s after the kill", time.Since(start).Round(time.Millisecond))
			if !tt.silent {
				for _, d := range drivers {
					defer d.start(t, false)()
				}
			}
			for _, d := range drivers {
				require.Eventually(t, func() bool {
					got, _, _, _ := d.snapshot()
					return len(afterConn(got, 1)) >= orderCount
				}, 30*time.Second, 10*time.Millisecond, "%s: everything queued before the kill, after the restart", d.name)
			}
			t.Logf("drivers had all %d orders %s after the kill", orderCount, time.Since(start).Round(time.Millisecond))

			for _, d := range drivers {
				got, conns, _, errs := d.snapshot()
				assert.Empty(t, errs, d.name)
				after := afterConn(got, 1)
				ids := make([]string, len(after))
				for i, p := range after {
					ids[i] = p.OrderID
					if p.Seq != uint64(i+1) {
						t.Errorf("%s: event %d after the restart has seq %d, want %d", d.name, i+1, p.Seq, i+1)
						break
					}
				}
				assert.Equal(t, want, ids, "%s: orders after the restart, in creation order", d.name)
				if tt.silent {
					before := len(got) - len(after) // in flight, never acked, when the node died
					assert.GreaterOrEqual(t, before, window, "%s: a window before the kill", d.name)
					assert.LessOrEqual(t, before, 2*window, "%s: at most the window and its probes", d.name)
					st := checkStream(t, d.name, got, conns, want, nil)
					assert.Equal(t, before, st.duplicates, "%s: what was in flight comes again", d.name)
				}
			}
		})
	}
}

// afterConn returns the pickups received on connection from or later.
func afterConn(got []pickup, from int) []pickup {
	for i, p := range got {
		if p.Conn >= from {
			return got[i:]
		}
	}
	return nil
}
