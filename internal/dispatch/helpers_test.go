package dispatch

import (
	"context"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/transport"
)

var _ Store = (*store.Store)(nil)

// testPublicURL is the env's http.public_url.
const testPublicURL = "https://track.example"

var testAuth = auth.Config{Secret: []byte("tenants-test-secret-0123456789abcdef")}

// env is a whole dispatch server on loopback: real transport, SQLite
// store, embedded NATS, the relay, durable queues and the namespaces.
type env struct {
	url    string
	svc    *Service
	srv    *transport.Server
	fleet  *Fleet
	offers *offerCounts
}

// offerCounts is an OfferObserver that counts.
type offerCounts struct {
	mu                       sync.Mutex
	rings, offered, declined int
	broadcast                map[string]int
}

func (c *offerCounts) OfferRing(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rings++
	c.offered += n
}

func (c *offerCounts) OfferBroadcast(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broadcast[reason]++
}

func (c *offerCounts) OfferDeclined() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.declined++
}

// counts returns rings, offers, declines and broadcasts by reason.
func (c *offerCounts) counts() (rings, offered, declined int, broadcast map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rings, c.offered, c.declined, maps.Clone(c.broadcast)
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	return newEnvLog(t, cfg, zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)))
}

func newEnvLog(t testing.TB, cfg Config, log *zap.Logger) *env {
	t.Helper()
	return newEnvDelivery(t, cfg, delivery.Config{}, log)
}

// newEnvDelivery is newEnvLog with durable delivery tuned by dcfg (its
// Feeds are the audience table's).
func newEnvDelivery(t testing.TB, cfg Config, dcfg delivery.Config, log *zap.Logger) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir}, log)
	require.NoError(t, err)
	br, err := broker.Open(ctx, broker.Config{DataDir: dir}, log)
	require.NoError(t, err)
	srv := transport.NewServer(transport.Config{}, log)
	relay := delivery.NewRelay(delivery.Config{}, st, br, Fanout, log)
	locations := NewLocations(br, ServerEmitter{srv}, log)
	board := NewBoard(br, ServerEmitter{srv}, log)
	var svc *Service // the fleet's hook runs only once Run starts, after svc is set
	fleet := NewFleet(time.Minute, func(d DriverState) {
		board.DriverChanged(d)
		svc.DriverChanged(d)
	})
	dcfg.Feeds = OwnFeeds()
	del := delivery.NewQueues(dcfg, br, st, log)
	require.NoError(t, del.Start(ctx))
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 5)
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		relay.Run(runCtx)
	}()
	go func() { ran <- locations.Run(runCtx) }()
	go func() { ran <- board.Run(runCtx) }()
	svc = NewService(st, relay, locations, board, fleet)
	svc.EnableAuto(fleet, cfg.RespondBy, log)
	runner := deadline.NewRunner(st, deadline.Config{Poll: 50 * time.Millisecond}, log)
	offers := &offerCounts{broadcast: map[string]int{}}
	svc.EnableNearest(fleet, NearestConfig{Size: cfg.OfferSize, RadiusMeters: cfg.OfferRadiusMeters,
		TTL: cfg.OfferTTL, Rounds: cfg.OfferRounds, Observer: offers}, runner, log)
	svc.SetDefaultStrategy(cfg.Strategy)
	svc.EnableETA(fleet, cfg.ETA())
	svc.EnableTracking(st, fleet, TrackingConfig{PublicURL: testPublicURL})
	go func() { ran <- fleet.Run(runCtx, br, st, log) }()
	go func() { ran <- svc.RunAuto(runCtx) }()
	go func() { ran <- runner.Run(runCtx) }()
	v, err := auth.NewVerifier(testAuth)
	require.NoError(t, err)
	NewHandlers(cfg, svc, del, v, log).Mount(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		hs.Close()
		stop()
		for range 5 {
			require.NoError(t, <-ran)
		}
		<-relayed
		del.Close(ctx)
		br.Close(ctx)
		require.NoError(t, st.Close())
	})
	return &env{url: hs.URL, svc: svc, srv: srv, fleet: fleet, offers: offers}
}

func token(t testing.TB, tenant string, role orders.Role, sub string) string {
	t.Helper()
	tok, err := auth.Sign(testAuth, auth.Claims{Subject: sub, Tenant: tenant, Role: role}, time.Hour, time.Now())
	require.NoError(t, err)
	return tok
}

// user is one connected client of one namespace.
type user struct {
	t  testing.TB
	c  *sioclient.Client
	ns string
}

func (e *env) connect(t testing.TB, tenant string, role orders.Role, sub string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, e.url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ns := "/" + string(role) + "s"
	_, err = c.Connect(ctx, ns, map[string]string{"token": token(t, tenant, role, sub)})
	require.NoError(t, err)
	return &user{t: t, c: c, ns: ns}
}

// reply is the contract's ack object.
type reply struct {
	OK    bool `json:"ok"`
	Error *struct {
		Code    orders.Code `json:"code"`
		Message string      `json:"message"`
	} `json:"error"`
	Order   orders.Order    `json:"order"`
	Orders  []orders.Order  `json:"orders"`
	Pickups []orders.Order  `json:"pickups"`
	Events  []orders.Event  `json:"events"`
	Raw     json.RawMessage `json:"-"`
}

func (u *user) call(event string, args ...any) reply {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := u.c.Call(ctx, u.ns, event, args...)
	require.NoError(u.t, err)
	require.Len(u.t, got, 1)
	var r reply
	require.NoError(u.t, json.Unmarshal(got[0], &r))
	r.Raw = got[0]
	return r
}

func (u *user) mustOK(event string, args ...any) reply {
	u.t.Helper()
	r := u.call(event, args...)
	require.True(u.t, r.OK, "%s: %s", event, r.Raw)
	return r
}

func (u *user) mustFail(code orders.Code, event string, args ...any) {
	u.t.Helper()
	r := u.call(event, args...)
	require.False(u.t, r.OK, "%s: %s", event, r.Raw)
	require.Equal(u.t, code, r.Error.Code, "%s: %s", event, r.Raw)
}

// next returns the next event, failing after 3 s.
func (u *user) next() sioclient.Event {
	u.t.Helper()
	select {
	case ev := <-u.c.Events:
		_ = u.c.Ack(ev)
		return ev
	case <-time.After(3 * time.Second):
		u.t.Fatal("no event within 3s")
	}
	return sioclient.Event{}
}

// expect returns the next event, which must be name, decoded into v.
func (u *user) expect(name string, v any) {
	u.t.Helper()
	ev := u.next()
	require.Equal(u.t, name, ev.Name, "args: %s", ev.Args)
	if v != nil {
		require.NoError(u.t, json.Unmarshal(ev.Args[0], v))
	}
}

// quiet asserts that no event arrives for d.
func (u *user) quiet(d time.Duration) {
	u.t.Helper()
	select {
	case ev := <-u.c.Events:
		u.t.Fatalf("unexpected %s %s", ev.Name, ev.Args)
	case <-time.After(d):
	}
}

func newOrder(customer string) map[string]any {
	return map[string]any{
		"store": "Pizza Nord", "customerId": customer, "zone": "north",
		"pickup":  map[string]any{"address": "1 Main St", "lat": 52.52, "lng": 13.40},
		"dropoff": map[string]any{"address": "9 Side St", "lat": 52.50, "lng": 13.42},
		"items":   []map[string]any{{"name": "margherita", "qty": 2}},
	}
}
