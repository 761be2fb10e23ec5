//go:build unix

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// offer is one pickup:offer as a driver received it.
type offer struct {
	OrderID   string
	Round     int
	ExpiresAt time.Time
	At        time.Time // when it arrived
}

// claimPolicy says when a driver claims an offer: at the time returned,
// or never (ok false).
type claimPolicy func(o offer) (at time.Time, ok bool)

// offerDriver is an on-duty driver at a fixed position, on one node, that
// claims the offers it gets as its policy says and records every offer
// and every claim's outcome.
type offerDriver struct {
	id     string
	c      *sioclient.Client
	policy claimPolicy

	mu     sync.Mutex
	offers []offer
	claims map[string]orders.Code // order id → "" (won) or the refusal
	errs   []error
}

// startOfferDriver connects driver id to nodeURL, puts it on duty at
// (lat, lng) and serves its events until the test ends.
func startOfferDriver(t *testing.T, ctx context.Context, nodeURL, token, id string, lat, lng float64, policy claimPolicy) *offerDriver {
	t.Helper()
	c, err := sioclient.Dial(ctx, nodeURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Connect(ctx, "/drivers", map[string]string{"token": token})
	require.NoError(t, err)
	d := &offerDriver{id: id, c: c, policy: policy, claims: map[string]orders.Code{}}
	d.mustCall(t, ctx, "driver:duty", map[string]any{"onDuty": true})
	d.mustCall(t, ctx, "location:update", map[string]any{"lat": lat, "lng": lng})
	go d.serve(ctx)
	return d
}

func (d *offerDriver) mustCall(t *testing.T, ctx context.Context, event string, arg any) {
	t.Helper()
	code, err := d.call(ctx, event, arg)
	require.NoError(t, err, "%s %s", d.id, event)
	require.Empty(t, code, "%s %s", d.id, event)
}

// call sends event and returns the refusal's code, "" for ok.
func (d *offerDriver) call(ctx context.Context, event string, arg any) (orders.Code, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := d.c.Call(ctx, "/drivers", event, arg)
	if err != nil {
		return "", err
	}
	var r struct {
		OK    bool `json:"ok"`
		Error *struct {
			Code orders.Code `json:"code"`
		} `json:"error"`
	}
	if len(got) != 1 || json.Unmarshal(got[0], &r) != nil {
		return "", fmt.Errorf("%s: unreadable ack %s", event, got)
	}
	if r.OK {
		return "", nil
	}
	if r.Error == nil {
		return "", fmt.Errorf("%s: refusal without an error: %s", event, got[0])
	}
	return r.Error.Code, nil
}

// serve acks every durable event and acts on offers until ctx ends or
// the connection does.
func (d *offerDriver) serve(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-d.c.Events:
			if !ok {
				return
			}
			_ = d.c.Ack(ev)
			if ev.Name == "pickup:offer" {
				d.onOffer(ctx, ev)
			}
		}
	}
}

func (d *offerDriver) onOffer(ctx context.Context, ev sioclient.Event) {
	var p struct {
		Order     struct{ ID string } `json:"order"`
		ExpiresAt time.Time           `json:"expiresAt"`
		Round     int                 `json:"round"`
	}
	if len(ev.Args) == 0 || json.Unmarshal(ev.Args[0], &p) != nil {
		d.fail(fmt.Errorf("%s: unreadable pickup:offer %s", d.id, ev.Args))
		return
	}
	o := offer{OrderID: p.Order.ID, Round: p.Round, ExpiresAt: p.ExpiresAt, At: time.Now()}
	d.mu.Lock()
	d.offers = append(d.offers, o)
	d.mu.Unlock()
	at, ok := d.policy(o)
	if !ok {
		return
	}
	go func() {
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
			return
		}
		code, err := d.call(ctx, "pickup:claim", map[string]any{"orderId": o.OrderID})
		if err != nil {
			if ctx.Err() == nil {
				d.fail(fmt.Errorf("%s: claim %s: %w", d.id, o.OrderID, err))
			}
			return
		}
		d.mu.Lock()
		d.claims[o.OrderID] = code
		d.mu.Unlock()
	}()
}

func (d *offerDriver) fail(err error) {
	d.mu.Lock()
	d.errs = append(d.errs, err)
	d.mu.Unlock()
}

// snapshot copies what the driver has seen so far.
func (d *offerDriver) snapshot() (offers []offer, claims map[string]orders.Code, errs []error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	claims = make(map[string]orders.Code, len(d.claims))
	for k, v := range d.claims {
		claims[k] = v
	}
	return append([]offer(nil), d.offers...), claims, append([]error(nil), d.errs...)
}

// waitForFleet waits until node's board lists every one of ids on duty
// with a position: its Fleet can offer them orders.
func waitForFleet(t *testing.T, ctx context.Context, nodeURL, token string, ids ...string) {
	t.Helper()
	c, err := sioclient.Dial(ctx, nodeURL)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Connect(ctx, "/dispatchers", map[string]string{"token": token})
	require.NoError(t, err)
	go func() { // the board's live events: drained, not needed
		for range c.Events {
		}
	}()
	require.Eventually(t, func() bool {
		got, err := c.Call(ctx, "/dispatchers", "board:subscribe", map[string]any{})
		if err != nil || len(got) != 1 {
			return false
		}
		var r struct {
			Drivers []struct {
				DriverID string   `json:"driverId"`
				OnDuty   bool     `json:"onDuty"`
				Lat      *float64 `json:"lat"`
			} `json:"drivers"`
		}
		if json.Unmarshal(got[0], &r) != nil {
			return false
		}
		seen := map[string]bool{}
		for _, d := range r.Drivers {
			seen[d.DriverID] = d.OnDuty && d.Lat != nil
		}
		for _, id := range ids {
			if !seen[id] {
				return false
			}
		}
		return true
	}, 15*time.Second, 50*time.Millisecond, "the node's fleet never knew every driver")
}

// nearestEnv is the environment of a node of a nearest-strategy cluster
// on one PostgreSQL schema and one NATS stream.
func nearestEnv(t *testing.T, secret, db, natsURL, stream, prefix string, ttl time.Duration, size, rounds int) func() []string {
	return func() []string {
		return []string{
			"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn",
			"DISPATCH_DATABASE_URL=" + db, "DISPATCH_NATS_URL=" + natsURL,
			"DISPATCH_NATS_STREAM=" + stream, "DISPATCH_NATS_PREFIX=" + prefix,
			"DISPATCH_STRATEGY=nearest", "DISPATCH_OFFER_TTL=" + ttl.String(),
			fmt.Sprintf("DISPATCH_OFFER_SIZE=%d", size), fmt.Sprintf("DISPATCH_OFFER_ROUNDS=%d", rounds),
			// Drivers here claim far faster than people do.
			"DISPATCH_EVENTS_PER_SECOND=1000", "DISPATCH_EVENT_BURST=1000",
		}
	}
}
