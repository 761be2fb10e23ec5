//go:build linux

package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// callTimeout bounds one control call (a ping or an order) under load.
const callTimeout = 10 * time.Second

// durable is one durable event a control client received.
type durable struct {
	Name    string
	Seq     uint64
	EventID string
	OrderID string
}

// control is one well-behaved client: joined to / and to its role's
// namespace, it acks every event, records the durable ones and pings /
// on a ticker. It never reconnects: losing its session fails the test.
//
// Goroutines: one reader loop and one pinger, both owned by close.
type control struct {
	name string
	ns   string
	c    *sioclient.Client

	closing atomic.Bool // set by close before it ends the session
	dropped atomic.Bool // the session ended without close

	pings, pongs atomic.Int64

	mu     sync.Mutex
	events []durable
	errs   []error

	stop chan struct{}
	wg   sync.WaitGroup
}

// dialControl connects name to / and ns with token.
func dialControl(t *testing.T, base, name, ns, token string) *control {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	c, err := sioclient.Dial(ctx, base)
	require.NoError(t, err, "%s: dial", name)
	_, err = c.Connect(ctx, "/", nil)
	require.NoError(t, err, "%s: connect /", name)
	_, err = c.Connect(ctx, ns, map[string]string{"token": token})
	require.NoError(t, err, "%s: connect %s", name, ns)
	k := &control{name: name, ns: ns, c: c, stop: make(chan struct{})}
	k.wg.Add(1)
	go k.read()
	t.Cleanup(k.close)
	return k
}

func (k *control) read() {
	defer k.wg.Done()
	for ev := range k.c.Events {
		if err := k.c.Ack(ev); err != nil && !k.closing.Load() {
			k.fail(fmt.Errorf("ack %s: %w", ev.Name, err))
		}
		if ev.Name == "driver:location" || len(ev.Args) == 0 {
			continue
		}
		var body struct {
			EventID string `json:"eventId"`
			Seq     uint64 `json:"seq"`
			OrderID string `json:"orderId"`
			Order   struct {
				ID string `json:"id"`
			} `json:"order"`
		}
		if err := json.Unmarshal(ev.Args[0], &body); err != nil || body.Seq == 0 || body.EventID == "" {
			k.fail(fmt.Errorf("malformed durable %s: %s", ev.Name, ev.Args[0]))
			continue
		}
		if body.OrderID == "" {
			body.OrderID = body.Order.ID
		}
		k.mu.Lock()
		k.events = append(k.events, durable{Name: ev.Name, Seq: body.Seq, EventID: body.EventID, OrderID: body.OrderID})
		k.mu.Unlock()
	}
	if !k.closing.Load() {
		k.dropped.Store(true)
	}
}

// startPinging pings / every interval until close.
func (k *control) startPinging(interval time.Duration) {
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-k.stop:
				return
			case <-tick.C:
			}
			k.pings.Add(1)
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			res, err := k.c.Call(ctx, "/", "ping")
			cancel()
			switch {
			case err != nil:
				if !k.closing.Load() {
					k.fail(fmt.Errorf("ping: %w", err))
				}
			case len(res) != 1 || string(res[0]) != `"pong"`:
				k.fail(fmt.Errorf("ping answered %s", res))
			default:
				k.pongs.Add(1)
			}
		}
	}()
}

func (k *control) call(ctx context.Context, event string, arg any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := k.c.Call(ctx, k.ns, event, arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", event, err)
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("%s answered %d arguments", event, len(res))
	}
	var r struct {
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal(res[0], &r); err != nil || !r.OK {
		return nil, fmt.Errorf("%s answered %s", event, res[0])
	}
	return res[0], nil
}

func (k *control) fail(err error) {
	k.mu.Lock()
	k.errs = append(k.errs, err)
	k.mu.Unlock()
}

// received returns the durable events named name, in arrival order.
func (k *control) received(name string) []durable {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []durable
	for _, e := range k.events {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// count is the number of durable events received.
func (k *control) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.events)
}

func (k *control) errors() []error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]error(nil), k.errs...)
}

// close ends the session on purpose and waits for the goroutines.
func (k *control) close() {
	if k.closing.Swap(true) {
		return
	}
	close(k.stop)
	_ = k.c.Close()
	k.wg.Wait()
}

// checkSeqs checks that evs carry seqs 1, 2, 3, … and the orders want,
// in that order.
func checkSeqs(t *testing.T, who string, evs []durable, want []string) {
	t.Helper()
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.OrderID
		if e.Seq != uint64(i+1) {
			t.Errorf("%s: %s #%d (order %s) has seq %d, want %d", who, e.Name, i+1, e.OrderID, e.Seq, i+1)
			return
		}
	}
	assert.Equal(t, want, ids, "%s: orders received, in order, differ from those created", who)
}
