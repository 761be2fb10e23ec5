package delivery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// failingConn is a fakeConn whose Deliver fails for the seqs in failOn
// (fixed before use), as a socket's does when its ack table is full.
type failingConn struct {
	*fakeConn
	failOn map[uint64]bool
}

func (c *failingConn) Deliver(event string, payload []byte, acked func()) error {
	var p struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(payload, &p); err == nil && c.failOn[p.Seq] {
		return errors.New("too many pending acks")
	}
	return c.fakeConn.Deliver(event, payload, acked)
}

// TestAckIsCumulativePerConnection: an ack of seq N receipts every event
// up to N sent on the same socket, so a client that acks only some event
// types keeps its window moving.
func TestAckIsCumulativePerConnection(t *testing.T) {
	tests := []struct {
		name    string
		publish int
		ack     int // index of the delivery acked
		want    int // deliveries in all once the window has moved
		cursor  uint64
	}{
		{name: "ack of the newest receipts the window", publish: 8, ack: 3, want: 8, cursor: 4},
		{name: "ack of a middle event receipts up to it", publish: 8, ack: 1, want: 6, cursor: 2},
		{name: "ack of the oldest receipts only it", publish: 8, ack: 0, want: 5, cursor: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, recips := newMemLog(), newMemRecipients()
			d := node(t, log, recips, delivery.Config{Window: 4, FlushInterval: time.Millisecond})
			c, _ := attach(t, d, vendor1)
			for i := range tt.publish {
				publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
			}
			first := c.waitN(t, 4)
			c.quiet(t, 4)
			first[tt.ack].ack()
			got := decoded(t, c.waitN(t, tt.want))
			for i, p := range got {
				require.Equal(t, uint64(i+1), p.Seq)
			}
			c.quiet(t, tt.want)
			require.Eventually(t, func() bool { return recips.cursor(vendor1).Seq == tt.cursor }, 2*time.Second, time.Millisecond)
		})
	}
}

// TestAckCoversOnlyWhatItsSocketWasSent: a later ack on a socket does not
// receipt an event that never reached that socket.
func TestAckCoversOnlyWhatItsSocketWasSent(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{Window: 2})
	phone, _ := attach(t, d, vendor1)
	laptop := &failingConn{fakeConn: newFakeConn(), failOn: map[uint64]bool{1: true}}
	_, err := d.Attach(t.Context(), vendor1, laptop)
	require.NoError(t, err)
	for i := range 3 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	got := decoded(t, laptop.waitN(t, 1))
	require.Equal(t, uint64(2), got[0].Seq, "seq 1 failed on the laptop")
	phone.waitN(t, 2)

	laptop.all()[0].ack() // seq 2, on a socket that never had seq 1
	phone.quiet(t, 2)     // seq 1 still holds the window

	phone.all()[0].ack() // seq 1 from the socket that had it
	assert.Equal(t, uint64(3), decoded(t, phone.waitN(t, 3))[2].Seq)
	assert.Equal(t, uint64(3), decoded(t, laptop.waitN(t, 2))[1].Seq)
}

// TestLateSocketResendsWhatIsInFlight: a socket that attaches after
// events were receipted elsewhere is sent the rest from the head, and its
// cumulative ack covers exactly that.
func TestLateSocketResendsWhatIsInFlight(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	d := node(t, log, recips, delivery.Config{Window: 3})
	phone, _ := attach(t, d, vendor1)
	for i := range 5 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	phone.waitN(t, 3)
	phone.all()[0].ack() // seq 1; seq 4 goes out
	phone.waitN(t, 4)
	laptop, _ := attach(t, d, vendor1)
	got := decoded(t, laptop.waitN(t, 3))
	assert.Equal(t, []uint64{2, 3, 4}, seqs(got), "what is in flight, from the head")
	laptop.all()[2].ack() // seq 4 receipts 2..4
	assert.Equal(t, uint64(5), decoded(t, phone.waitN(t, 5))[4].Seq)
	laptop.quiet(t, 4)
}

// TestProbesPastAFullWindow: a client that ignores the first event types
// it is sent (a stock client acks only the events it handles) still gets
// the later event whose ack receipts them all, one probe past the window
// per ProbeAfter; a client that acks nothing gets at most a second
// window.
func TestProbesPastAFullWindow(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	const probe = 20 * time.Millisecond
	d := node(t, log, recips, delivery.Config{Window: 4, ProbeAfter: probe, FlushInterval: time.Millisecond})
	c, _ := attach(t, d, vendor1)
	// Before the first publish: the window fills, and the probes' clock
	// starts, while the later events are still being published.
	start := time.Now()
	// Six events the client ignores, then one it handles.
	for i := range 6 {
		publishChange(t, log, fmt.Sprintf("ignored%d", i), "", orders.Ready, "")
	}
	publishChange(t, log, "handled", "", orders.Ready, "")
	got := c.waitN(t, 7)
	elapsed := time.Since(start)
	assert.GreaterOrEqual(t, elapsed, 3*probe, "three probes past the window of 4")
	var handled *delivered
	for i, p := range decoded(t, got) {
		if p.OrderID == "handled" {
			handled = &got[i]
		}
	}
	require.NotNil(t, handled)
	handled.ack()
	require.Eventually(t, func() bool { return recips.cursor(vendor1).Seq == 7 }, 2*time.Second, time.Millisecond,
		"its ack receipts the six before it")

	// Nothing acked: at most a second window (8 in flight), then it waits.
	for i := range 12 {
		publishChange(t, log, fmt.Sprintf("later%d", i), "", orders.Ready, "")
	}
	c.waitN(t, 7+8)
	time.Sleep(10 * probe)
	assert.Len(t, c.all(), 7+8, "probes stop at a second window")
}

// TestProbeAfterPartialAck: an ack of part of what probes sent past the
// window leaves more than a window in flight; the next probe still sends
// one more event a ProbeAfter later (it waited a probe for every event
// still out past the window: here 3 probe periods, not 1).
func TestProbeAfterPartialAck(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	const probe = 100 * time.Millisecond
	d := node(t, log, recips, delivery.Config{Window: 4, ProbeAfter: probe, FlushInterval: time.Millisecond})
	c, _ := attach(t, d, vendor1)
	for i := range 12 {
		publishChange(t, log, fmt.Sprintf("o%d", i), "", orders.Ready, "")
	}
	c.waitN(t, 7)    // the window and three probes
	c.all()[0].ack() // seq 1: 6 still in flight, 2 past the window
	start := time.Now()
	c.waitN(t, 8)
	took := time.Since(start)
	assert.Less(t, took, 2*probe+probe/2, "the next probe one ProbeAfter after the ack, not one per event past the window")
}
