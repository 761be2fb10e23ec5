package webhooks_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/testproc"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// env is a real store (SQLite, or PostgreSQL when
// DISPATCH_TEST_DATABASE_URL is set) and a real embedded JetStream log
// that the tests write feed records to, as the relay does.
type env struct {
	st  *store.Store
	br  *broker.Broker
	log *zap.Logger
}

// backends are the stores the integration tests run on.
func backends(t *testing.T) map[string]func(t *testing.T) store.Config {
	b := map[string]func(t *testing.T) store.Config{
		"sqlite": func(t *testing.T) store.Config { return store.Config{DataDir: t.TempDir()} },
	}
	if url := os.Getenv("DISPATCH_TEST_DATABASE_URL"); url != "" {
		b["postgres"] = func(t *testing.T) store.Config {
			return store.Config{DatabaseURL: testproc.FreshSchema(t, url, "webhooks")}
		}
	}
	return b
}

func newEnv(t *testing.T, sc store.Config) *env {
	t.Helper()
	return newEnvBroker(t, sc, broker.Config{DataDir: t.TempDir()})
}

func newEnvBroker(t *testing.T, sc store.Config, bc broker.Config) *env {
	t.Helper()
	ctx := context.Background()
	log := zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	st, err := store.Open(ctx, sc, log)
	require.NoError(t, err)
	br, err := broker.Open(ctx, bc, log)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		br.Close(ctx)
		require.NoError(t, st.Close())
	})
	return &env{st: st, br: br, log: log}
}

// testConfig shortens every wait: the 2 minutes, hours and days of
// production become fractions of a second.
func testConfig() webhooks.Config {
	return webhooks.Config{Timeout: 2 * time.Second, Concurrency: 4, RetryMin: 20 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, DisableAfter: time.Hour, AllowPrivate: true, Lease: time.Second,
		Poll: 50 * time.Millisecond, Retention: time.Hour}
}

// sink is a running Sink; stop ends it as a graceful shutdown would.
type sink struct {
	*webhooks.Sink
	stop func()
}

func (e *env) start(t *testing.T, cfg webhooks.Config) *sink {
	t.Helper()
	s := webhooks.New(cfg, e.br, e.st, e.log.Named("webhooks"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return &sink{Sink: s, stop: stop}
}

// order is one order's life as the relay renders it: created, assigned,
// picked up, delivered (or failed, or cancelled), each change's records
// on every feed.
func (e *env) order(t *testing.T, tenant, vendor string, end orders.Status) string {
	t.Helper()
	o := orders.Order{ID: orders.NewID(), Tenant: tenant, VendorID: vendor, CustomerID: "c1", Zone: "north",
		Status: orders.Ready, Version: 1, Dispatch: orders.Dispatch{Strategy: orders.StrategyBroadcast}}
	steps := []orders.Status{orders.Ready, orders.Assigned, orders.PickedUp, end}
	if end == orders.Cancelled {
		steps = []orders.Status{orders.Ready, end}
	}
	for i, status := range steps {
		o.Status, o.Version = status, i+1
		if status != orders.Ready && status != orders.Cancelled {
			o.DriverID = "d1"
		}
		if status == orders.Failed {
			o.Failure = &orders.Failure{Reason: orders.ReasonCustomerAbsent, At: time.Now().UTC()}
		}
		ev := orders.Event{ID: orders.NewID(), OrderID: o.ID, Status: status, DriverID: o.DriverID,
			At: time.Now().UTC(), Version: o.Version}
		recs, err := dispatch.Records(orders.Change{Order: o, Event: ev})
		require.NoError(t, err)
		for _, r := range recs {
			e.publish(t, r)
		}
	}
	return o.ID
}

func (e *env) publish(t *testing.T, r delivery.Record) {
	t.Helper()
	data, err := json.Marshal(r)
	require.NoError(t, err)
	_, _, err = e.br.Publish(context.Background(), e.br.EventSubject(r.Tenant, r.Feed, r.Key),
		r.EventID+"|"+r.Feed+"|"+r.Key, data)
	require.NoError(t, err)
}

// hit is one request a receiver got.
type hit struct {
	id, typ, orderID string
	at               time.Time
	signed           bool
}

// receiver is an HTTP endpoint that checks each request's signature and
// answers what answer says.
type receiver struct {
	srv    *httptest.Server
	secret string
	answer func(h hit) int

	mu   sync.Mutex
	hits []hit // answered 2xx
	all  int   // every request
}

func newReceiver(t *testing.T, answer func(h hit) int) *receiver {
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var env struct {
		Type string `json:"type"`
		Data struct {
			OrderID string `json:"orderId"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	h := hit{id: req.Header.Get(webhooks.HeaderID), typ: env.Type, orderID: env.Data.OrderID, at: time.Now()}
	r.mu.Lock()
	secret := r.secret
	r.all++
	r.mu.Unlock()
	ts, err := strconv.ParseInt(req.Header.Get(webhooks.HeaderTimestamp), 10, 64)
	if err == nil {
		want, err := webhooks.Sign(secret, h.id, time.Unix(ts, 0), body)
		h.signed = err == nil && hmac.Equal([]byte(want), []byte(req.Header.Get(webhooks.HeaderSignature)))
	}
	code := http.StatusOK
	if r.answer != nil {
		code = r.answer(h)
	}
	if code/100 == 2 {
		r.mu.Lock()
		r.hits = append(r.hits, h)
		r.mu.Unlock()
	}
	w.WriteHeader(code)
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

// received returns the accepted requests so far.
func (r *receiver) received() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all
}

// register creates an endpoint of vendor for the receiver.
func register(t *testing.T, s *sink, r *receiver, tenant, vendor string, events ...string) webhooks.Endpoint {
	t.Helper()
	if len(events) == 0 {
		events = webhooks.Types()
	}
	ep, err := s.Create(context.Background(), webhooks.Owner{Tenant: tenant, VendorID: vendor}, r.srv.URL, events)
	require.NoError(t, err)
	r.setSecret(ep.Secret)
	return ep
}

// expected is the messages each order makes, in order, for an endpoint
// of every type.
func expectedTypes(end orders.Status) []string {
	switch end {
	case orders.Delivered:
		return []string{"order.status", "order.created", "order.status", "order.status", "order.status", "order.delivered"}
	case orders.Failed:
		return []string{"order.status", "order.created", "order.status", "order.status", "order.status", "order.failed"}
	}
	return []string{"order.status", "order.created", "order.status", "order.cancelled"}
}

// firstSeen returns per order the types of its messages in the order
// their ids were first accepted, duplicates dropped, and how many
// duplicates there were; it requires every request to be signed.
func firstSeen(t *testing.T, hits []hit) (map[string][]string, int) {
	t.Helper()
	seen := map[string]bool{}
	out := map[string][]string{}
	dups := 0
	for _, h := range hits {
		require.True(t, h.signed, "request %s is not signed with the endpoint's secret", h.id)
		if seen[h.id] {
			dups++
			continue
		}
		seen[h.id] = true
		out[h.orderID] = append(out[h.orderID], h.typ)
	}
	return out, dups
}
