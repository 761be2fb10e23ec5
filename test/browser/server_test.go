//go:build unix

package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// secret signs every token of these tests; tenant is their one tenant.
const (
	secret = "browser-secret-0123456789abcdef0123456789ab"
	tenant = "acme"
)

// callTimeout bounds one Go client's request and its ack.
const callTimeout = 10 * time.Second

// startServer starts dispatchd on SQLite in a fresh data directory, with
// no map tiles (the pages draw on a plain background and ask nothing of
// the network); it stops, and is checked, when t ends.
func startServer(t *testing.T, env ...string) *testproc.Proc {
	t.Helper()
	all := append([]string{
		"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn",
		"DISPATCH_TILE_URL=none",
	}, env...)
	return testproc.StartWith(t, bin, testproc.Options{Env: all})
}

// token signs a token of the test tenant.
func token(t *testing.T, role orders.Role, sub string) string {
	t.Helper()
	return testproc.Sign(t, secret, tenant, role, sub)
}

var namespaces = map[orders.Role]string{
	orders.RoleVendor: "/vendors", orders.RoleDriver: "/drivers",
	orders.RoleCustomer: "/customers", orders.RoleDispatcher: "/dispatchers",
}

// received is one event a Go client read, with when.
type received struct {
	name string
	body json.RawMessage
	at   time.Time
}

// client is a Go Socket.IO client playing one role. Its reader goroutine
// (ended by the cleanup's Close) acks every durable event and keeps it.
type client struct {
	t    *testing.T
	name string
	ns   string
	c    *sioclient.Client

	mu      sync.Mutex
	evs     []received
	changed chan struct{} // closed and replaced on each event
}

// connect dials srv as sub of role; the socket closes when t ends.
func connect(t *testing.T, srv *testproc.Proc, role orders.Role, sub string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	c, err := sioclient.Dial(ctx, srv.URL)
	require.NoError(t, err, "%s: dial", sub)
	t.Cleanup(func() { _ = c.Close() })
	ns := namespaces[role]
	_, err = c.Connect(ctx, ns, map[string]string{"token": token(t, role, sub)})
	require.NoError(t, err, "%s: connect %s", sub, ns)
	cl := &client{t: t, name: sub, ns: ns, c: c, changed: make(chan struct{})}
	go cl.read()
	return cl
}

func (cl *client) read() {
	for ev := range cl.c.Events {
		_ = cl.c.Ack(ev) // a write error means the socket is closing
		r := received{name: ev.Name, at: time.Now()}
		if len(ev.Args) > 0 {
			r.body = ev.Args[0]
		}
		cl.mu.Lock()
		cl.evs = append(cl.evs, r)
		close(cl.changed)
		cl.changed = make(chan struct{})
		cl.mu.Unlock()
	}
}

// call sends event, requires { ok: true }, decodes the ack into out (when
// not nil) and returns when the ack arrived.
func (cl *client) call(event string, payload, out any) time.Time {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	res, err := cl.c.Call(ctx, cl.ns, event, payload)
	at := time.Now()
	require.NoError(cl.t, err, "%s: %s", cl.name, event)
	require.NotEmpty(cl.t, res, "%s: %s: empty ack", cl.name, event)
	var r struct {
		OK bool `json:"ok"`
	}
	require.NoError(cl.t, json.Unmarshal(res[0], &r), "%s: %s answered %s", cl.name, event, res[0])
	require.True(cl.t, r.OK, "%s: %s %v answered %s", cl.name, event, payload, res[0])
	if out != nil {
		require.NoError(cl.t, json.Unmarshal(res[0], out), "%s: %s answered %s", cl.name, event, res[0])
	}
	return at
}

// send emits event with no ack (location:update).
func (cl *client) send(event string, payload any) {
	cl.t.Helper()
	require.NoError(cl.t, cl.c.Emit(cl.ns, event, payload), "%s: %s", cl.name, event)
}

// await waits up to timeout for an event named name about order id.
func (cl *client) await(name, id string, timeout time.Duration) received {
	cl.t.Helper()
	return cl.awaitMatch(name, id, func(json.RawMessage) bool { return true }, timeout)
}

// awaitStatus waits up to timeout for order:status of order id in status.
func (cl *client) awaitStatus(id string, status orders.Status, timeout time.Duration) received {
	cl.t.Helper()
	return cl.awaitMatch("order:status", id, func(b json.RawMessage) bool {
		var e struct {
			Status orders.Status `json:"status"`
		}
		return json.Unmarshal(b, &e) == nil && e.Status == status
	}, timeout)
}

// awaitMatch waits up to timeout for an event named name about order id
// whose body matches.
func (cl *client) awaitMatch(name, id string, match func(json.RawMessage) bool, timeout time.Duration) received {
	cl.t.Helper()
	stop := time.NewTimer(timeout)
	defer stop.Stop()
	for {
		cl.mu.Lock()
		changed := cl.changed
		for _, ev := range cl.evs {
			if ev.name == name && about(ev.body, id) && match(ev.body) {
				cl.mu.Unlock()
				return ev
			}
		}
		cl.mu.Unlock()
		select {
		case <-changed:
		case <-stop.C:
			cl.t.Fatalf("%s: no %s about %s within %s; it received: %s", cl.name, name, id, timeout, cl.history())
		}
	}
}

func (cl *client) history() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	parts := make([]string, 0, len(cl.evs))
	for _, ev := range cl.evs {
		parts = append(parts, ev.name+" "+string(ev.body))
	}
	return fmt.Sprint(len(parts), " events: ", strings.Join(parts, "; "))
}

// about reports whether an event body names order id: { orderId } or
// { order: { id } }.
func about(b json.RawMessage, id string) bool {
	var e struct {
		OrderID string `json:"orderId"`
		Order   struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	return json.Unmarshal(b, &e) == nil && (e.OrderID == id || e.Order.ID == id)
}

// order is what these tests read of an order object.
type order struct {
	ID          string        `json:"id"`
	Status      orders.Status `json:"status"`
	DriverID    string        `json:"driverId"`
	TrackingURL string        `json:"trackingUrl"`
}

// place is a pickup or dropoff.
type place struct {
	Address string  `json:"address"`
	Lat     float64 `json:"lat"`
	Lng     float64 `json:"lng"`
}

// newOrder is an order:create payload with strategy (empty: the
// tenant's).
func newOrder(customer, strategy string, pickup, dropoff place) map[string]any {
	o := map[string]any{
		"store": "Corner Bakery", "customerId": customer, "pickup": pickup, "dropoff": dropoff,
		"items": []map[string]any{{"name": "Sourdough loaf", "qty": 1}},
	}
	if strategy != "" {
		o["dispatch"] = map[string]string{"strategy": strategy}
	}
	return o
}

// post has a Go vendor post an order (the tenant's strategy, broadcast)
// for customer and returns it.
func post(t *testing.T, srv *testproc.Proc, customer string) order {
	t.Helper()
	v := connect(t, srv, orders.RoleVendor, "vendor-1")
	var res struct {
		Order order `json:"order"`
	}
	v.call("order:create", newOrder(customer, "", pickup, dropoff), &res)
	require.Equal(t, orders.Ready, res.Order.Status)
	return res.Order
}
