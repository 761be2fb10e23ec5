//go:build unix

package strategies

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// callTimeout bounds one request and its ack.
const callTimeout = 10 * time.Second

// received is one server→client event as a peer read it.
type received struct {
	name string
	body json.RawMessage
	at   time.Time
}

// peer is one client socket. Its reader goroutine (owned by the peer,
// ended by the cleanup's Close) acks every durable event as it arrives,
// as a client that handles them would, and keeps it for await.
type peer struct {
	t    testing.TB
	name string
	ns   string
	c    *sioclient.Client

	mu      sync.Mutex
	evs     []received
	taken   []bool        // evs[i] was returned by await
	changed chan struct{} // closed and replaced on each new event
	// onEvent, when set before events flow, also hears every event on
	// the reader goroutine (the benchmark's clock).
	onEvent func(received)
}

var namespaces = map[orders.Role]string{
	orders.RoleVendor: "/vendors", orders.RoleDriver: "/drivers",
	orders.RoleCustomer: "/customers", orders.RoleDispatcher: "/dispatchers",
}

// dial connects sub of role to its namespace; no t.Fatal, so that many
// can connect at once.
func dial(t testing.TB, s *server, role orders.Role, sub string, onEvent func(received)) (*peer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	c, err := sioclient.Dial(ctx, s.proc.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", sub, err)
	}
	ns := namespaces[role]
	if _, err := c.Connect(ctx, ns, map[string]string{"token": token(t, role, sub)}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s: connect %s: %w", sub, ns, err)
	}
	p := &peer{t: t, name: sub, ns: ns, c: c, changed: make(chan struct{}), onEvent: onEvent}
	go p.read()
	return p, nil
}

// connect is dial for the test goroutine; the socket closes when t ends.
func connect(t testing.TB, s *server, role orders.Role, sub string) *peer {
	t.Helper()
	p, err := dial(t, s, role, sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.c.Close() })
	return p
}

func (p *peer) read() {
	for ev := range p.c.Events {
		// A write error means the socket is closing; nothing to do.
		_ = p.c.Ack(ev)
		r := received{name: ev.Name, at: time.Now()}
		if len(ev.Args) > 0 {
			r.body = ev.Args[0]
		}
		if p.onEvent != nil {
			p.onEvent(r)
		}
		p.mu.Lock()
		p.evs = append(p.evs, r)
		p.taken = append(p.taken, false)
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
}

// reply is a request's ack: { ok, error?, ...result }.
type reply struct {
	OK    bool `json:"ok"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// request sends event with payload and returns the ack's first argument;
// no t.Fatal, so that many can ask at once.
func (p *peer) request(event string, payload any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	res, err := p.c.Call(ctx, p.ns, event, payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", p.name, event, err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("%s: %s: empty ack", p.name, event)
	}
	return res[0], nil
}

// code is the error code of an ack, "" for ok.
func code(res json.RawMessage) string {
	var r reply
	if json.Unmarshal(res, &r) != nil || (!r.OK && r.Error == nil) {
		return "malformed: " + string(res)
	}
	if r.OK {
		return ""
	}
	return r.Error.Code
}

// mustOK sends event and requires { ok: true }, decoded into out (when
// not nil).
func (p *peer) mustOK(event string, payload, out any) {
	p.t.Helper()
	res, err := p.request(event, payload)
	if err != nil {
		p.t.Fatal(err)
	}
	if c := code(res); c != "" {
		p.t.Fatalf("%s: %s %v answered %s", p.name, event, payload, res)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			p.t.Fatalf("%s: %s answered %s: %v", p.name, event, res, err)
		}
	}
}

// mustFail sends event and requires the error code want.
func (p *peer) mustFail(event string, payload any, want string) {
	p.t.Helper()
	res, err := p.request(event, payload)
	if err != nil {
		p.t.Fatal(err)
	}
	if got := code(res); got != want {
		p.t.Fatalf("%s: %s %v answered %s, want error %s", p.name, event, payload, res, want)
	}
}

// take marks and returns the first event not yet taken named name
// whose body about matches (about "" matches any); ok is false when
// none has arrived. changed is closed on the next arrival.
func (p *peer) take(name string, match func(json.RawMessage) bool) (r received, ok bool, changed <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, ev := range p.evs {
		if !p.taken[i] && ev.name == name && (match == nil || match(ev.body)) {
			p.taken[i] = true
			return ev, true, p.changed
		}
	}
	return received{}, false, p.changed
}

// await waits up to timeout for an event named name matching match (nil:
// any), which it returns, and fails t otherwise, listing what came.
func (p *peer) await(name string, match func(json.RawMessage) bool, timeout time.Duration, why string) received {
	p.t.Helper()
	stop := time.NewTimer(timeout)
	defer stop.Stop()
	for {
		r, ok, changed := p.take(name, match)
		if ok {
			return r
		}
		select {
		case <-changed:
		case <-stop.C:
			p.t.Fatalf("%s: no %s within %s (%s); it received: %s", p.name, name, timeout, why, p.history())
		}
	}
}

// quiet fails t if an event named name matching match arrives within d
// (or had arrived untaken).
func (p *peer) quiet(name string, match func(json.RawMessage) bool, d time.Duration, why string) {
	p.t.Helper()
	select {
	case <-time.After(d):
	case <-p.c.Done():
	}
	if r, ok, _ := p.take(name, match); ok {
		p.t.Fatalf("%s: unexpected %s %s (%s)", p.name, name, r.body, why)
	}
}

// history lists the events received, for failure messages.
func (p *peer) history() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.evs) == 0 {
		return "nothing"
	}
	parts := make([]string, len(p.evs))
	for i, ev := range p.evs {
		parts[i] = ev.name + " " + string(ev.body)
	}
	return strings.Join(parts, "; ")
}

// forOrder matches an event about order id: { orderId } or { order: { id } }.
func forOrder(id string) func(json.RawMessage) bool {
	return func(b json.RawMessage) bool {
		var e struct {
			OrderID string `json:"orderId"`
			Order   struct {
				ID string `json:"id"`
			} `json:"order"`
		}
		return json.Unmarshal(b, &e) == nil && (e.OrderID == id || e.Order.ID == id)
	}
}
