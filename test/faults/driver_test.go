//go:build unix

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// pickup is one pickup:available as a driver received it.
type pickup struct {
	EventID string
	OrderID string
	Seq     uint64
	Conn    int // the driver's connection it came on, 0 for the first
	At      time.Time
}

// driver is one driver's client: it connects to /drivers, subscribes to
// every zone's pickups once (the subscription is durable), records every
// pickup:available it receives and acknowledges them (see ackFrom). When
// its connection drops it reconnects, with the same token, to target.
//
// Goroutines: one loop per started run, owned by the stop func start
// returns; it alone reads and acks on the client.
type driver struct {
	name   string
	token  string
	target atomic.Pointer[string] // base URL to (re)connect to

	// ackFrom is the first connection index whose events are acked as
	// they arrive (0: always); a driver before it stays silent. ackNow
	// makes a silent driver ack what it holds and everything after.
	ackFrom atomic.Int64
	ackNow  chan struct{}

	mu    sync.Mutex
	got   []pickup
	conns []time.Time // when each connection's dial began
	held  int         // pickups received on the current connection and not acked
	errs  []error
}

func newDriver(name, token, url string) *driver {
	d := &driver{name: name, token: token, ackNow: make(chan struct{}, 1)}
	d.target.Store(&url)
	return d
}

// connectDeadline bounds one dial and CONNECT.
const connectDeadline = 5 * time.Second

// dial connects to target's /drivers namespace.
func (d *driver) dial(ctx context.Context) (*sioclient.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, connectDeadline)
	defer cancel()
	c, err := sioclient.Dial(ctx, *d.target.Load())
	if err != nil {
		return nil, err
	}
	if _, err := c.Connect(ctx, "/drivers", map[string]string{"token": d.token}); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// start connects (and subscribes, when asked) before it returns, then
// keeps receiving, reconnecting whenever the connection drops, until stop.
func (d *driver) start(t testing.TB, subscribe bool) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	began := time.Now()
	c, err := d.dial(ctx)
	require.NoError(t, err, "%s: connect", d.name)
	if subscribe {
		cctx, ccancel := context.WithTimeout(ctx, connectDeadline)
		res, err := c.Call(cctx, "/drivers", "pickups:subscribe", map[string]any{})
		ccancel()
		require.NoError(t, err, "%s: pickups:subscribe", d.name)
		require.Contains(t, string(res[0]), `"ok":true`, "%s: pickups:subscribe answered %s", d.name, res)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.loop(ctx, c, began)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// retryDial spaces out the dials of a driver whose node is down.
const retryDial = 50 * time.Millisecond

func (d *driver) loop(ctx context.Context, c *sioclient.Client, began time.Time) {
	for {
		d.mu.Lock()
		conn := len(d.conns)
		d.conns = append(d.conns, began)
		d.held = 0
		d.mu.Unlock()
		d.receive(ctx, c, conn)
		_ = c.Close()
		for {
			if ctx.Err() != nil {
				return
			}
			began = time.Now()
			var err error
			if c, err = d.dial(ctx); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryDial):
			}
		}
	}
}

// receive handles one connection's events until it ends or ctx does.
func (d *driver) receive(ctx context.Context, c *sioclient.Client, conn int) {
	var held []sioclient.Event
	acking := func() bool { return int64(conn) >= d.ackFrom.Load() }
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.ackNow:
			d.ackFrom.Store(int64(conn))
			for _, ev := range held {
				_ = c.Ack(ev)
			}
			held = nil
			d.mu.Lock()
			d.held = 0
			d.mu.Unlock()
		case ev, ok := <-c.Events:
			if !ok {
				return
			}
			if ev.Name == "pickup:available" {
				d.record(ev, conn)
			}
			if acking() {
				// A write error means the connection is going: the
				// event stays unacknowledged and comes again.
				_ = c.Ack(ev)
				continue
			}
			held = append(held, ev)
			d.mu.Lock()
			d.held = len(held)
			d.mu.Unlock()
		}
	}
}

func (d *driver) record(ev sioclient.Event, conn int) {
	now := time.Now()
	var body struct {
		EventID string `json:"eventId"`
		Seq     uint64 `json:"seq"`
		Order   struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(ev.Args) != 1 || json.Unmarshal(ev.Args[0], &body) != nil || body.EventID == "" || body.Seq == 0 {
		d.errs = append(d.errs, fmt.Errorf("malformed pickup:available %s", ev.Args))
		return
	}
	if ev.AckID == nil {
		d.errs = append(d.errs, fmt.Errorf("pickup:available seq %d without an ack request", body.Seq))
	}
	d.got = append(d.got, pickup{EventID: body.EventID, OrderID: body.Order.ID, Seq: body.Seq, Conn: conn, At: now})
}

// snapshot returns what the driver received so far.
func (d *driver) snapshot() (got []pickup, conns []time.Time, held int, errs []error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]pickup(nil), d.got...), append([]time.Time(nil), d.conns...), d.held, append([]error(nil), d.errs...)
}

// distinct counts the distinct events received.
func (d *driver) distinct() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := make(map[string]struct{}, len(d.got))
	for _, p := range d.got {
		seen[p.EventID] = struct{}{}
	}
	return len(seen)
}
