package api_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// The Socket.IO packets documented as messages that are not events.
const (
	packetConnect      = "CONNECT"
	packetConnectError = "CONNECT_ERROR"
)

// mainMounts maps the functions of cmd/dispatchd that register
// client→server events to the namespace they serve; the dispatch
// namespaces' mount functions come from the audience table
// (audienceMounts). A function registering events that is in neither
// fails the test.
var mainMounts = map[string]string{"mountMain": "/"}

// everyMount is the function of internal/dispatch that registers the
// client→server events of every audience's namespace.
const everyMount = "mountEvery"

// directEvents are the server→client events sent to one socket of any
// audience's namespace (not through feeds or rooms), with their payloads.
var directEvents = map[dispatch.Event]any{
	dispatch.EventAuthExpiring: dispatch.AuthExpiry{Exp: time.Now()},
	dispatch.EventAuthExpired:  dispatch.AuthExpiry{Exp: time.Now()},
}

// The directories whose non-test Go files register socket events.
var eventSources = []string{"../internal/dispatch", "../cmd/dispatchd"}

type ref struct {
	Ref string `yaml:"$ref"`
}

type asyncAPI struct {
	AsyncAPI string `yaml:"asyncapi"`
	Channels map[string]struct {
		Address  string         `yaml:"address"`
		Messages map[string]ref `yaml:"messages"`
	} `yaml:"channels"`
	Operations map[string]struct {
		Action   string `yaml:"action"`
		Channel  ref    `yaml:"channel"`
		Messages []ref  `yaml:"messages"`
		Reply    *struct {
			Channel  ref   `yaml:"channel"`
			Messages []ref `yaml:"messages"`
		} `yaml:"reply"`
	} `yaml:"operations"`
	Components struct {
		Messages map[string]message `yaml:"messages"`
	} `yaml:"components"`
}

type message struct {
	Name    string `yaml:"name"`
	Payload struct {
		Required   []string       `yaml:"required"`
		Properties map[string]any `yaml:"properties"`
	} `yaml:"payload"`
}

// operation is one documented operation, its refs resolved.
type operation struct {
	id      string
	action  string // receive: client→server; send: server→client
	ns      string
	events  []string
	payload []message
	replies []string
}

func loadAsyncAPI(t *testing.T) []operation {
	t.Helper()
	raw, err := os.ReadFile("asyncapi.yaml")
	require.NoError(t, err)
	var doc asyncAPI
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	require.Equal(t, "3.0.0", doc.AsyncAPI)

	// resolve follows #/channels/C/messages/M to its component message.
	resolve := func(r ref) (string, message) {
		parts := strings.Split(strings.TrimPrefix(r.Ref, "#/"), "/")
		require.Len(t, parts, 4, "operation messages refer to a channel's messages: %q", r.Ref)
		require.Equal(t, "channels", parts[0], r.Ref)
		ch, ok := doc.Channels[parts[1]]
		require.True(t, ok, r.Ref)
		m, ok := ch.Messages[parts[3]]
		require.True(t, ok, r.Ref)
		name, ok := strings.CutPrefix(m.Ref, "#/components/messages/")
		require.True(t, ok, m.Ref)
		msg, ok := doc.Components.Messages[name]
		require.True(t, ok, m.Ref)
		return ch.Address, msg
	}
	channel := func(r ref) string {
		name, ok := strings.CutPrefix(r.Ref, "#/channels/")
		require.True(t, ok, r.Ref)
		ch, ok := doc.Channels[name]
		require.True(t, ok, r.Ref)
		return ch.Address
	}

	var ops []operation
	for id, o := range doc.Operations {
		op := operation{id: id, action: o.Action, ns: channel(o.Channel)}
		require.Contains(t, []string{"send", "receive"}, o.Action, id)
		for _, r := range o.Messages {
			ns, m := resolve(r)
			require.Equal(t, op.ns, ns, "%s: its messages belong to its channel", id)
			op.events = append(op.events, m.Name)
			op.payload = append(op.payload, m)
		}
		if o.Reply != nil {
			require.Equal(t, op.ns, channel(o.Reply.Channel), "%s: acks come back on the same namespace", id)
			for _, r := range o.Reply.Messages {
				_, m := resolve(r)
				op.replies = append(op.replies, m.Name)
			}
		}
		ops = append(ops, op)
	}
	return ops
}

// TestAsyncAPINamespaces: one channel per namespace, no more.
func TestAsyncAPINamespaces(t *testing.T) {
	raw, err := os.ReadFile("asyncapi.yaml")
	require.NoError(t, err)
	var doc asyncAPI
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	var got []string
	for _, ch := range doc.Channels {
		got = append(got, ch.Address)
	}
	want := []string{"/"}
	for _, a := range dispatch.Audiences() {
		want = append(want, a.Namespace)
	}
	assert.ElementsMatch(t, want, got)
}

// TestAsyncAPIClientEvents: every event the server registers is documented
// as a receive operation with an ack on its namespace, and nothing else is.
func TestAsyncAPIClientEvents(t *testing.T) {
	registered := registeredEvents(t)
	require.NotEmpty(t, registered[dispatch.NSVendors], "the source scan found no /vendors events")

	documented := map[string]map[string]bool{}
	connects := map[string]bool{}
	for _, op := range loadAsyncAPI(t) {
		if op.action != "receive" {
			continue
		}
		for _, ev := range op.events {
			if ev == packetConnect {
				connects[op.ns] = true
				assert.ElementsMatch(t, []string{packetConnect, packetConnectError}, op.replies, op.id)
				continue
			}
			if documented[op.ns] == nil {
				documented[op.ns] = map[string]bool{}
			}
			documented[op.ns][ev] = true
			assert.NotEmpty(t, op.replies, "%s %s: its ack is documented", op.ns, ev)
		}
	}
	for ns, events := range registered {
		for ev := range events {
			assert.True(t, documented[ns][ev], "%s %q is handled by the server but not in api/asyncapi.yaml", ns, ev)
		}
	}
	for ns, events := range documented {
		for ev := range events {
			assert.True(t, registered[ns][ev], "%s %q is in api/asyncapi.yaml but the server does not handle it", ns, ev)
		}
	}
	for _, a := range dispatch.Audiences() {
		assert.True(t, connects[a.Namespace], "%s: the CONNECT auth payload is documented", a.Namespace)
	}
	// Every client event named in events.go has a handler.
	for name, ev := range eventNames(t, token.NewFileSet()) {
		if !strings.HasPrefix(name, "Client") {
			continue
		}
		handled := false
		for _, events := range registered {
			handled = handled || events[ev]
		}
		assert.True(t, handled, "events.go names %s (%q) but no namespace handles it", name, ev)
	}
}

// registeredEvents scans the server's source for event handlers:
// t.on(s, "event", ...) in tenants and s.On("event", ...) in cmd, grouped
// by namespace through the mount function they sit in.
func registeredEvents(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	names := eventNames(t, fset)
	mountNamespaces := audienceMounts(t, fset, names)
	maps.Copy(mountNamespaces, mainMounts)
	for _, dir := range eventSources {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			require.NoError(t, err)
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				for _, ev := range handlerEvents(fn.Body, names) {
					if fn.Name.Name == everyMount {
						for _, a := range dispatch.Audiences() {
							if out[a.Namespace] == nil {
								out[a.Namespace] = map[string]bool{}
							}
							out[a.Namespace][ev] = true
						}
						continue
					}
					ns, ok := mountNamespaces[fn.Name.Name]
					require.True(t, ok, "%s: %s registers %q; mount it from the audience table, or add it to mainMounts", path, fn.Name.Name, ev)
					if out[ns] == nil {
						out[ns] = map[string]bool{}
					}
					out[ns][ev] = true
				}
			}
		}
	}
	return out
}

// eventNames reads the string constants of the event sources (the event
// names of internal/dispatch/events.go), by name.
func eventNames(t *testing.T, fset *token.FileSet) map[string]string {
	t.Helper()
	names := map[string]string{}
	for _, dir := range eventSources {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			require.NoError(t, err)
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								names[name.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			}
		}
	}
	return names
}

// audienceMounts reads the audience table (internal/dispatch/audience.go):
// each row's mount function and the namespace it mounts.
func audienceMounts(t *testing.T, fset *token.FileSet, names map[string]string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(fset, "../internal/dispatch/audience.go", nil, 0)
	require.NoError(t, err)
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		var ns, mount string
		for _, elt := range lit.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, _ := kv.Key.(*ast.Ident)
			switch {
			case key == nil:
			case key.Name == "Namespace":
				if id, ok := kv.Value.(*ast.Ident); ok {
					ns = names[id.Name]
				}
			case key.Name == "mount":
				if sel, ok := kv.Value.(*ast.SelectorExpr); ok {
					mount = sel.Sel.Name
				}
			}
		}
		if ns != "" && mount != "" {
			out[mount] = ns
		}
		return true
	})
	require.Len(t, out, len(dispatch.Audiences()), "every row of the audience table has a namespace and a mount function")
	return out
}

// handlerEvents finds x.on(s, "ev", h) and x.On("ev", h) calls, the
// event a string literal or a constant of names.
func handlerEvents(body *ast.BlockStmt, names map[string]string) []string {
	var events []string
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		idx := -1
		switch sel.Sel.Name {
		case "On":
			idx = 0
		case "on":
			idx = 1
		}
		if idx < 0 || len(call.Args) <= idx {
			return true
		}
		switch arg := call.Args[idx].(type) {
		case *ast.BasicLit:
			if ev, err := strconv.Unquote(arg.Value); err == nil && arg.Kind == token.STRING {
				events = append(events, ev)
			}
		case *ast.Ident:
			if ev, ok := names[arg.Name]; ok {
				events = append(events, ev)
			}
		}
		return true
	})
	return events
}

// recorder is a dispatch.Emitter that remembers every emit.
type recorder struct {
	mu    sync.Mutex
	emits []emit
}

type emit struct {
	ns, event string
	payload   map[string]any
}

func (r *recorder) Emit(ns string, _ []string, event string, payload json.RawMessage) error {
	var body map[string]any
	if err := json.Unmarshal(payload, &body); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emits = append(r.emits, emit{ns: ns, event: event, payload: body})
	return nil
}

// TestAsyncAPIServerEvents renders every transition into dispatch's
// durable records (and a position through the order rooms), and checks
// that each (namespace, event) sent is a documented send operation whose
// payload lists exactly the keys sent, and that the document promises no
// event the server never sends.
func TestAsyncAPIServerEvents(t *testing.T) {
	rec := &recorder{}
	l := dispatch.NewLocations(nil, rec, zap.NewNop())
	now := time.Now().UTC()
	heading := 90.0
	o := orders.Order{ID: orders.NewID(), Tenant: "t1", VendorID: "v1", CustomerID: "c1", Store: "s", Zone: "north",
		Pickup: orders.Place{Address: "a", Lat: 1, Lng: 2}, Dropoff: orders.Place{Address: "b", Lat: 3, Lng: 4},
		Status: orders.Ready, CreatedAt: now, UpdatedAt: now, Version: 1}
	vendor := orders.Actor{Role: orders.RoleVendor, ID: "v1"}
	driver := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	var respondBy *time.Time // set: the auto strategy's assignment
	statusETA := 240         // the driver's position was known: order:status carries etaSeconds where it applies
	step := func(o orders.Order, status orders.Status, driverID string, actor orders.Actor) {
		o.Status, o.DriverID = status, driverID
		ev := orders.Event{ID: orders.NewID(), OrderID: o.ID, Status: status, DriverID: driverID, Actor: actor, At: now, Version: o.Version,
			RespondBy: respondBy, ETASeconds: &statusETA}
		recs, err := dispatch.Records(orders.Change{Order: o, Event: ev})
		require.NoError(t, err)
		for i := range recs {
			require.NoError(t, rec.Emit(namespaceOf(recs[i].Feed), nil, string(recs[i].Event), recs[i].Payload(7)))
		}
	}
	step(o, orders.Ready, "", vendor)
	step(o, orders.Assigned, "d1", driver)
	step(o, orders.PickedUp, "d1", driver)
	step(o, orders.InTransit, "d1", driver)
	step(o, orders.Delivered, "d1", driver)
	step(o, orders.Cancelled, "", vendor)   // cancelled while ready
	step(o, orders.Cancelled, "d1", vendor) // cancelled after a claim
	by := now.Add(30 * time.Second)
	respondBy = &by
	step(o, orders.Assigned, "d1", orders.Actor{Role: orders.RoleDispatcher, ID: "auto"})
	respondBy = nil
	notice, err := dispatch.Records(orders.Change{Order: o, Unassigned: orders.ReasonNoDriver,
		Event: orders.Event{ID: orders.NewID(), OrderID: o.ID, Status: orders.Ready, At: now}})
	require.NoError(t, err)
	offer, err := dispatch.Records(orders.Change{Order: o, Offer: &orders.Offer{Round: 1, ExpiresAt: now.Add(30 * time.Second),
		Drivers: []orders.OfferedDriver{{ID: "d1", Meters: 812.4}, {ID: "d2", Meters: 1500}}},
		Event: orders.Event{ID: orders.NewID(), OrderID: o.ID, Status: orders.Ready, At: now}})
	require.NoError(t, err)
	notice = append(notice, offer...)
	disabled, err := webhooks.DisabledRecord(webhooks.Endpoint{ID: orders.NewID(), Tenant: "t1", VendorID: "v1",
		URL: "https://hooks.example.com/in"}, now, "every attempt failed")
	require.NoError(t, err)
	require.Equal(t, string(dispatch.EventWebhookDisabled), disabled.Event, "webhooks' copy of the event name")
	notice = append(notice, disabled)
	for i := range notice {
		require.NoError(t, rec.Emit(namespaceOf(notice[i].Feed), nil, string(notice[i].Event), notice[i].Payload(7)))
	}
	meters, eta := 1200.5, 188
	require.NoError(t, l.Show("t1", []dispatch.Leg{{OrderID: o.ID, DistanceMeters: &meters, ETASeconds: &eta}},
		dispatch.Location{Lat: 1, Lng: 2, Heading: &heading, Speed: &heading}, now))
	board := dispatch.NewBoard(&loopback{}, rec, zap.NewNop())
	stopBoard := runBoard(t, board)
	// Published again until heard: Run subscribes on its own goroutine.
	require.Eventually(t, func() bool {
		board.OrderChanged(o)
		return rec.sent(dispatch.NSDispatchers) > 0
	}, 2*time.Second, 10*time.Millisecond)
	board.DriverChanged(dispatch.DriverState{Tenant: "t1", DriverID: "d1", OnDuty: true, Point: geo.Point{Lat: 1, Lng: 2}, At: now, Known: true})
	stopBoard()

	documented := map[[2]string]message{}
	for _, op := range loadAsyncAPI(t) {
		if op.action == "send" {
			for i, ev := range op.events {
				documented[[2]string{op.ns, ev}] = op.payload[i]
			}
		}
	}
	// The token notices go to one socket of any namespace, from its timer.
	for _, a := range dispatch.Audiences() {
		for ev, payload := range directEvents {
			raw, err := json.Marshal(payload)
			require.NoError(t, err)
			require.NoError(t, rec.Emit(a.Namespace, nil, string(ev), raw))
		}
	}
	emitted := map[[2]string]bool{}
	for _, e := range rec.emits {
		key := [2]string{e.ns, e.event}
		emitted[key] = true
		m, ok := documented[key]
		if !assert.True(t, ok, "the server sends %s %q but api/asyncapi.yaml has no send operation for it", e.ns, e.event) {
			continue
		}
		sent := slices.Sorted(maps.Keys(e.payload))
		for _, k := range sent {
			assert.Contains(t, m.Payload.Properties, k, "%s %q: payload key %q is not documented", e.ns, e.event, k)
		}
		for _, k := range m.Payload.Required {
			assert.Contains(t, sent, k, "%s %q: documented required key %q is not sent", e.ns, e.event, k)
		}
	}
	for key := range documented {
		assert.True(t, emitted[key], "api/asyncapi.yaml documents %s %q but the server never sends it", key[0], key[1])
	}
	for _, ev := range hubEvents(t) {
		found := false
		for key := range emitted {
			found = found || key[1] == ev
		}
		assert.True(t, found, "dispatch declares %q but no transition emits it", ev)
	}
}

// namespaceOf is the namespace of the recipients of a feed's records:
// the audience owning it, or the drivers for the shared pickups feed.
func namespaceOf(feed string) string {
	for _, a := range dispatch.Audiences() {
		if a.Feed == feed {
			return a.Namespace
		}
	}
	return dispatch.NSDrivers
}

// hubEvents lists the constants of type dispatch.Event in events.go.
func hubEvents(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../internal/dispatch/events.go", nil, 0)
	require.NoError(t, err)
	var out []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Event" {
				continue
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					s, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out = append(out, s)
				}
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

func (r *recorder) sent(ns string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.emits {
		if e.ns == ns {
			n++
		}
	}
	return n
}

// loopback is a best-effort subject on one process: what is published is
// handed to the subscriber at once.
type loopback struct {
	mu     sync.Mutex
	handle func([]byte)
}

func (l *loopback) BoardSubject() string { return "board" }

func (l *loopback) PublishBestEffort(_ string, data []byte) error {
	l.mu.Lock()
	h := l.handle
	l.mu.Unlock()
	if h != nil {
		h(data)
	}
	return nil
}

func (l *loopback) SubscribeBestEffort(_ string, handle func([]byte)) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handle = handle
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.handle = nil
	}, nil
}

// runBoard runs b until the returned stop, once it has subscribed.
func runBoard(t *testing.T, b *dispatch.Board) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	return func() {
		cancel()
		require.NoError(t, <-done)
	}
}
