package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// waitFor polls cond until it holds or the (generous) timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkAll requires every order's messages, in order per order.
func checkAll(t *testing.T, r *receiver, want map[string][]string) int {
	t.Helper()
	got, dups := firstSeen(t, r.received())
	for id, types := range want {
		require.Equal(t, types, got[id], "order %s: every message at least once, in order", id)
	}
	require.Len(t, got, len(want), "messages of orders nobody made")
	return dups
}

func total(want map[string][]string) int {
	n := 0
	for _, types := range want {
		n += len(types)
	}
	return n
}

// distinct counts the distinct message ids accepted.
func distinct(r *receiver) int {
	seen := map[string]bool{}
	for _, h := range r.received() {
		seen[h.id] = true
	}
	return len(seen)
}

// TestRecoveringReceiver: a receiver that answers 500 for a while (2
// seconds here, the 2 minutes shortened by the test config's
// backoff of 20–200 ms) and then recovers gets every event at least once,
// in order per order, none lost, every request signed.
func TestRecoveringReceiver(t *testing.T) {
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, backend(t))
			s := e.start(t, testConfig())
			var recoverAt atomic.Int64
			recoverAt.Store(time.Now().Add(2 * time.Second).UnixNano())
			r := newReceiver(t, func(hit) int {
				if time.Now().UnixNano() < recoverAt.Load() {
					return http.StatusInternalServerError
				}
				return http.StatusNoContent
			})
			register(t, s, r, "acme", "v1")
			other := newReceiver(t, nil) // another vendor's endpoint hears none of v1's
			register(t, s, other, "acme", "v2")
			want := map[string][]string{}
			ends := []orders.Status{orders.Delivered, orders.Failed, orders.Cancelled}
			for i := range 15 {
				end := ends[i%3]
				want[e.order(t, "acme", "v1", end)] = expectedTypes(end)
			}
			e.order(t, "globex", "v1", orders.Delivered) // another tenant's
			waitFor(t, 30*time.Second, "every message", func() bool { return distinct(r) >= total(want) })
			dups := checkAll(t, r, want)
			assert.Greater(t, r.requests(), total(want), "the receiver failed some first")
			assert.Empty(t, other.received())
			t.Logf("%d messages, %d requests, %d duplicates", total(want), r.requests(), dups)

			// The delivery log shows every message delivered, the first
			// ones after several attempts.
			eps, err := s.List(context.Background(), webhooks.Owner{Tenant: "acme", VendorID: "v1"})
			require.NoError(t, err)
			require.Len(t, eps, 1)
			retried := 0
			waitFor(t, 5*time.Second, "every delivery recorded", func() bool {
				ds, err := s.Deliveries(context.Background(), webhooks.Owner{Tenant: "acme", VendorID: "v1"}, eps[0].ID, 100)
				require.NoError(t, err)
				retried = 0
				for _, d := range ds {
					if d.Status != webhooks.DeliverySucceeded {
						return false
					}
					if d.Attempts > 1 {
						retried++
					}
				}
				return len(ds) == total(want)
			})
			assert.Positive(t, retried)
		})
	}
}

// TestSilentReceiverHoldsNobodyBack: an endpoint whose receiver never
// answers (the attempt timeout is long) delays no other endpoint.
func TestSilentReceiverHoldsNobodyBack(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	cfg := testConfig()
	cfg.Timeout = time.Minute
	s := e.start(t, cfg)
	release := make(chan struct{})
	silent := newReceiver(t, func(hit) int {
		<-release
		return http.StatusOK
	})
	// Unblock the silent receiver's handlers before its server closes.
	t.Cleanup(func() { close(release) })
	register(t, s, silent, "acme", "v1")
	fine := newReceiver(t, nil)
	register(t, s, fine, "acme", "v1")
	want := map[string][]string{}
	start := time.Now()
	for range 40 {
		want[e.order(t, "acme", "v1", orders.Delivered)] = expectedTypes(orders.Delivered)
	}
	waitFor(t, 20*time.Second, "the answering endpoint's messages", func() bool { return distinct(fine) >= total(want) })
	took := time.Since(start)
	checkAll(t, fine, want)
	assert.Less(t, took, 15*time.Second)
	assert.Empty(t, silent.received())
	assert.LessOrEqual(t, silent.requests(), testConfig().Concurrency, "at most the concurrency limit in flight")
	st := s.Stats()
	assert.Equal(t, 2, st.Endpoints)
	assert.Positive(t, st.Waiting, "the silent endpoint's events wait")
	assert.GreaterOrEqual(t, st.Lag, took/2, "as old as the oldest of them")
	t.Logf("%d messages to the answering endpoint in %s while the other held %d requests", total(want), took, silent.requests())
}

// TestResumeAfterRestart: a sink stopped mid-delivery and another started
// on the same store and log (a restarted node) loses nothing, and sends
// again only what the stop interrupted.
func TestResumeAfterRestart(t *testing.T) {
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, backend(t))
			first := e.start(t, testConfig())
			var n atomic.Int64
			r := newReceiver(t, func(hit) int {
				n.Add(1)
				time.Sleep(5 * time.Millisecond)
				return http.StatusOK
			})
			register(t, first, r, "acme", "v1")
			want := map[string][]string{}
			for range 60 {
				want[e.order(t, "acme", "v1", orders.Delivered)] = expectedTypes(orders.Delivered)
			}
			waitFor(t, 20*time.Second, "some messages", func() bool { return n.Load() >= 40 })
			first.stop()
			before := distinct(r)
			require.Less(t, before, total(want), "stopped mid-delivery")
			for range 10 {
				want[e.order(t, "acme", "v1", orders.Delivered)] = expectedTypes(orders.Delivered)
			}
			e.start(t, testConfig())
			waitFor(t, 30*time.Second, "every message", func() bool { return distinct(r) >= total(want) })
			dups := checkAll(t, r, want)
			t.Logf("%d delivered before the stop, %d messages in all, %d duplicates", before, total(want), dups)
			// What was delivered and recorded is not sent again, even
			// past the stored cursor: only the attempts the stop cut
			// short, at most one per lane.
			assert.LessOrEqual(t, dups, testConfig().Concurrency)
		})
	}
}

// TestDisableAfter: an endpoint that fails every attempt for
// disable_after is disabled: attempts stop, the API shows it, and the
// vendor's feed carries webhook:disabled.
func TestDisableAfter(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	cfg := testConfig()
	cfg.DisableAfter = 500 * time.Millisecond
	s := e.start(t, cfg)
	r := newReceiver(t, func(hit) int { return http.StatusServiceUnavailable })
	ep := register(t, s, r, "acme", "v1")
	e.order(t, "acme", "v1", orders.Delivered)
	owner := webhooks.Owner{Tenant: "acme", VendorID: "v1"}
	waitFor(t, 10*time.Second, "the endpoint disabled", func() bool {
		got, err := s.Get(context.Background(), owner, ep.ID)
		require.NoError(t, err)
		return got.Status == webhooks.StatusDisabled
	})
	got, err := s.Get(context.Background(), owner, ep.ID)
	require.NoError(t, err)
	require.NotNil(t, got.DisabledAt)
	assert.Contains(t, got.DisabledReason, "disable_after")
	time.Sleep(300 * time.Millisecond) // a lane mid-attempt may finish
	n := r.requests()
	e.order(t, "acme", "v1", orders.Delivered)
	time.Sleep(time.Second)
	assert.Equal(t, n, r.requests(), "no attempts after disablement")
	ds, err := s.Deliveries(context.Background(), owner, ep.ID, 10)
	require.NoError(t, err)
	require.NotEmpty(t, ds)
	assert.Equal(t, webhooks.DeliveryFailed, ds[len(ds)-1].Status)

	// The vendor's sockets hear it: webhook:disabled on its feed, once.
	var notices []webhooks.Disabled
	last, err := e.br.LastPos(context.Background())
	require.NoError(t, err)
	require.NoError(t, e.br.Read(context.Background(), []string{e.br.EventSubject("acme", "v", "v1")}, 1, last,
		func(_ uint64, _ string, data []byte) error {
			var rec delivery.Record
			require.NoError(t, json.Unmarshal(data, &rec))
			if rec.Event == "webhook:disabled" {
				var d webhooks.Disabled
				require.NoError(t, json.Unmarshal(rec.Body, &d))
				notices = append(notices, d)
			}
			return nil
		}))
	require.Len(t, notices, 1)
	assert.Equal(t, ep.ID, notices[0].WebhookID)
	assert.Equal(t, ep.URL, notices[0].URL)
	assert.Equal(t, got.DisabledReason, notices[0].Reason)
	assert.True(t, got.DisabledAt.Equal(notices[0].DisabledAt.Truncate(time.Microsecond)))
}

// TestExpiryAndManualRetry: a message its receiver refuses past retention
// is given up (failed) and the endpoint's cursor moves on to the next;
// a manual retry later delivers it.
func TestExpiryAndManualRetry(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	cfg := testConfig()
	cfg.Retention = 500 * time.Millisecond
	s := e.start(t, cfg)
	// The first order.created to come (of either order: their lanes may
	// differ) is refused, always.
	var refuse, refusedOrder atomic.Value
	refuse.Store("")
	refusedOrder.Store("")
	r := newReceiver(t, func(h hit) int {
		if h.typ == "order.created" && refuse.CompareAndSwap("", h.id) {
			refusedOrder.Store(h.orderID)
		}
		if h.id == refuse.Load() {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	ep := register(t, s, r, "acme", "v1", "order.created", "order.delivered")
	orderIDs := []string{e.order(t, "acme", "v1", orders.Delivered), e.order(t, "acme", "v1", orders.Delivered)}
	owner := webhooks.Owner{Tenant: "acme", VendorID: "v1"}
	waitFor(t, 10*time.Second, "the refused message given up", func() bool {
		ds, err := s.Deliveries(context.Background(), owner, ep.ID, 100)
		require.NoError(t, err)
		for _, d := range ds {
			if d.MsgID == refuse.Load() && d.Status == webhooks.DeliveryFailed {
				return true
			}
		}
		return false
	})
	waitFor(t, 10*time.Second, "the other messages", func() bool { return distinct(r) >= 3 })
	first := refusedOrder.Load().(string)
	second := orderIDs[0]
	if second == first {
		second = orderIDs[1]
	}
	got, _ := firstSeen(t, r.received())
	assert.Equal(t, []string{"order.delivered"}, got[first], "given up, the order's next message came")
	assert.Equal(t, []string{"order.created", "order.delivered"}, got[second])

	ds, err := s.Deliveries(context.Background(), owner, ep.ID, 100)
	require.NoError(t, err)
	var failed webhooks.Delivery
	for _, d := range ds {
		if d.Status == webhooks.DeliveryFailed {
			failed = d
		}
	}
	require.NotEmpty(t, failed.ID)
	assert.Equal(t, http.StatusBadRequest, failed.ResponseStatus)
	assert.GreaterOrEqual(t, failed.Attempts, 2)
	refuse.Store("nothing")
	d, err := s.Retry(context.Background(), owner, ep.ID, failed.ID)
	require.NoError(t, err)
	assert.Equal(t, webhooks.DeliverySucceeded, d.Status)
	assert.Equal(t, failed.Attempts+1, d.Attempts)
	got, _ = firstSeen(t, r.received())
	assert.Equal(t, []string{"order.delivered", "order.created"}, got[first], "the retry came late, as asked")

	_, err = s.Retry(context.Background(), webhooks.Owner{Tenant: "acme", VendorID: "v2"}, ep.ID, failed.ID)
	assert.ErrorIs(t, err, webhooks.ErrNotFound, "another vendor's endpoint")

	// Past retention the delivery log is pruned.
	require.NoError(t, e.st.DeleteWebhookDeliveries(context.Background(), time.Now().Add(-time.Hour)))
	ds, err = s.Deliveries(context.Background(), owner, ep.ID, 100)
	require.NoError(t, err)
	assert.NotEmpty(t, ds, "recent deliveries stay")
	require.NoError(t, e.st.DeleteWebhookDeliveries(context.Background(), time.Now().Add(time.Second)))
	ds, err = s.Deliveries(context.Background(), owner, ep.ID, 100)
	require.NoError(t, err)
	assert.Empty(t, ds)
}

// TestRefusedDestination: without allow_private, an endpoint whose name
// resolves to loopback gets nothing: every attempt is refused at dial.
func TestRefusedDestination(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	cfg := testConfig()
	cfg.AllowPrivate = false
	s := e.start(t, cfg)
	r := newReceiver(t, nil)
	owner := webhooks.Owner{Tenant: "acme", VendorID: "v1"}
	_, err := s.Create(context.Background(), owner, r.srv.URL, webhooks.Types())
	require.Error(t, err, "a loopback address is refused at registration")
	ep, err := s.Create(context.Background(), owner, "http://localhost:"+r.srv.URL[len("http://127.0.0.1:"):], webhooks.Types())
	require.NoError(t, err, "a name is checked when dialed")
	e.order(t, "acme", "v1", orders.Delivered)
	waitFor(t, 10*time.Second, "a refused attempt recorded", func() bool {
		ds, err := s.Deliveries(context.Background(), owner, ep.ID, 10)
		require.NoError(t, err)
		return len(ds) > 0 && ds[len(ds)-1].Attempts >= 2
	})
	ds, err := s.Deliveries(context.Background(), owner, ep.ID, 10)
	require.NoError(t, err)
	assert.Contains(t, ds[len(ds)-1].LastError, "refused")
	assert.Zero(t, r.requests())
}

// TestOneNodePerEndpoint: two nodes on one store and log share the
// endpoints by lease, so each message goes out once, not once per node;
// when one stops, the other takes its endpoints over.
func TestOneNodePerEndpoint(t *testing.T) {
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, backend(t))
			a := e.start(t, testConfig())
			b := e.start(t, testConfig())
			var rs []*receiver
			for i := range 4 {
				r := newReceiver(t, nil)
				register(t, a, r, "acme", fmt.Sprintf("v%d", i))
				rs = append(rs, r)
			}
			waitFor(t, 5*time.Second, "every endpoint leased", func() bool {
				return a.Stats().Endpoints+b.Stats().Endpoints == 4
			})
			want := make([]map[string][]string, 4)
			for i := range want {
				want[i] = map[string][]string{}
				for range 5 {
					want[i][e.order(t, "acme", fmt.Sprintf("v%d", i), orders.Delivered)] = expectedTypes(orders.Delivered)
				}
			}
			for i, r := range rs {
				waitFor(t, 10*time.Second, "every message", func() bool { return distinct(r) >= total(want[i]) })
				assert.Zero(t, checkAll(t, r, want[i]), "no duplicates while both nodes run")
			}
			a.stop()
			waitFor(t, 10*time.Second, "b holds every endpoint", func() bool { return b.Stats().Endpoints == 4 })
			for i, r := range rs {
				want[i][e.order(t, "acme", fmt.Sprintf("v%d", i), orders.Cancelled)] = expectedTypes(orders.Cancelled)
				waitFor(t, 10*time.Second, "every message", func() bool { return distinct(r) >= total(want[i]) })
				checkAll(t, r, want[i])
			}
		})
	}
}

// TestTenantWideEndpoint: an endpoint without a vendor (the admin's, once
// the admin API registers them) hears every vendor of its tenant, and no
// other tenant.
func TestTenantWideEndpoint(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	s := e.start(t, testConfig())
	r := newReceiver(t, nil)
	register(t, s, r, "acme", "")
	want := map[string][]string{}
	for _, vendor := range []string{"v1", "v2", "v3"} {
		want[e.order(t, "acme", vendor, orders.Cancelled)] = expectedTypes(orders.Cancelled)
	}
	e.order(t, "globex", "v1", orders.Cancelled)
	waitFor(t, 10*time.Second, "every vendor's messages", func() bool { return distinct(r) >= total(want) })
	time.Sleep(200 * time.Millisecond) // room for a stray message to arrive
	checkAll(t, r, want)
}

// failingLeases is the store with LeaseWebhooks failing once broken.
type failingLeases struct {
	*store.Store
	broken atomic.Bool
	until  atomic.Int64 // the last lease granted runs until then (unix ns)
}

func (f *failingLeases) LeaseWebhooks(ctx context.Context, node string, now, until time.Time) ([]webhooks.Endpoint, error) {
	if f.broken.Load() {
		return nil, errors.New("database down")
	}
	eps, err := f.Store.LeaseWebhooks(ctx, node, now, until)
	if err == nil {
		f.until.Store(until.UnixNano())
	}
	return eps, err
}

// TestWorkersStopBeforeTheirLeasesLapse: a node that cannot renew its
// leases stops sending before they lapse, so that the node that takes
// them over is the only one sending (in order per order).
func TestWorkersStopBeforeTheirLeasesLapse(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	fs := &failingLeases{Store: e.st}
	cfg := testConfig()
	// A poll of 200 ms: the workers stop that long before the lease
	// lapses, which leaves this test's polling and a busy machine room.
	cfg.Poll, cfg.Lease = 200*time.Millisecond, 2*time.Second
	s := webhooks.New(cfg, e.br, fs, e.log.Named("webhooks"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	r := newReceiver(t, nil)
	_, err := s.Create(context.Background(), webhooks.Owner{Tenant: "acme", VendorID: "v1"}, r.srv.URL, []string{"order.status"})
	require.NoError(t, err)
	waitFor(t, 5*time.Second, "the endpoint leased", func() bool { return s.Stats().Endpoints == 1 })
	fs.broken.Store(true)
	waitFor(t, 5*time.Second, "its worker stopped", func() bool { return s.Stats().Endpoints == 0 })
	assert.Less(t, time.Now().UnixNano(), fs.until.Load(), "stopped before the last lease granted lapsed")
}

// TestManualRetryDuringBackoff: a manual retry that gets a message through
// while the worker waits to try it again ends the worker's retries: no
// second copy after the backoff, and the delivery stays succeeded (the
// worker went on sending it, a duplicate, before).
func TestManualRetryDuringBackoff(t *testing.T) {
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, backend(t))
			cfg := testConfig()
			cfg.RetryMin, cfg.RetryMax = 1500*time.Millisecond, 1500*time.Millisecond
			s := e.start(t, cfg)
			var open atomic.Bool
			r := newReceiver(t, func(hit) int {
				if open.Load() {
					return http.StatusOK
				}
				return http.StatusServiceUnavailable
			})
			ep := register(t, s, r, "acme", "v1", "order.created")
			e.order(t, "acme", "v1", orders.Cancelled)
			owner := webhooks.Owner{Tenant: "acme", VendorID: "v1"}
			var pending webhooks.Delivery
			waitFor(t, 10*time.Second, "the first attempt refused", func() bool {
				ds, err := s.Deliveries(context.Background(), owner, ep.ID, 10)
				require.NoError(t, err)
				if len(ds) == 1 && ds[0].Status == webhooks.DeliveryPending {
					pending = ds[0]
					return true
				}
				return false
			})
			open.Store(true)
			d, err := s.Retry(context.Background(), owner, ep.ID, pending.ID)
			require.NoError(t, err)
			require.Equal(t, webhooks.DeliverySucceeded, d.Status)
			// Past the worker's backoff (1.5 s, no jitter below 0.75 s).
			time.Sleep(2500 * time.Millisecond)
			require.Equal(t, 2, r.requests(), "the refused attempt and the manual retry, no third copy")
			ds, err := s.Deliveries(context.Background(), owner, ep.ID, 10)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			require.Equal(t, webhooks.DeliverySucceeded, ds[0].Status)
			require.Equal(t, 2, ds[0].Attempts)
		})
	}
}

// TestEnableResumes: a disabled endpoint enabled again gets, in order per
// order, what it missed: the message that failed, the rest of its order,
// and an order that came while it was off.
func TestEnableResumes(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	cfg := testConfig()
	cfg.DisableAfter = 300 * time.Millisecond
	s := e.start(t, cfg)
	var up atomic.Bool
	r := newReceiver(t, func(hit) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	ep := register(t, s, r, "acme", "v1")
	first := e.order(t, "acme", "v1", orders.Delivered)
	owner := webhooks.Owner{Tenant: "acme", VendorID: "v1"}
	waitFor(t, 10*time.Second, "the endpoint disabled", func() bool {
		got, err := s.Get(context.Background(), owner, ep.ID)
		require.NoError(t, err)
		return got.Status == webhooks.StatusDisabled
	})
	second := e.order(t, "acme", "v1", orders.Cancelled)
	up.Store(true)
	got, err := s.Enable(context.Background(), owner, ep.ID)
	require.NoError(t, err)
	require.Equal(t, webhooks.StatusEnabled, got.Status)
	require.Nil(t, got.DisabledAt)
	require.Nil(t, got.FailingSince)
	_, err = s.Enable(context.Background(), webhooks.Owner{Tenant: "acme", VendorID: "v2"}, ep.ID)
	require.ErrorIs(t, err, webhooks.ErrNotFound, "another vendor's endpoint")

	want := map[string][]string{first: expectedTypes(orders.Delivered), second: expectedTypes(orders.Cancelled)}
	waitFor(t, 10*time.Second, "every message once the endpoint is back", func() bool { return distinct(r) >= total(want) })
	checkAll(t, r, want)
}

// TestEnableLeavesEnabledAlone: enabling an endpoint that is enabled, and
// failing, changes nothing: its failing period stays, so calling enable
// now and then cannot keep a dead endpoint from being disabled.
func TestEnableLeavesEnabledAlone(t *testing.T) {
	e := newEnv(t, backends(t)["sqlite"](t))
	s := webhooks.New(testConfig(), e.br, e.st, e.log.Named("webhooks")) // not running: nothing else writes
	owner := webhooks.Owner{Tenant: "acme", VendorID: "v1"}
	ep, err := s.Create(context.Background(), owner, "https://hooks.example.com/in", webhooks.Types())
	require.NoError(t, err)
	since := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	require.NoError(t, e.st.SaveWebhookState(context.Background(), ep.ID, ep.Pos, &since))
	got, err := s.Enable(context.Background(), owner, ep.ID)
	require.NoError(t, err)
	require.Equal(t, webhooks.StatusEnabled, got.Status)
	require.NotNil(t, got.FailingSince, "the failing period stays")
	require.True(t, since.Equal(*got.FailingSince))
	_, err = s.Enable(context.Background(), owner, "no-such-endpoint")
	require.ErrorIs(t, err, webhooks.ErrNotFound)
}

// TestDisabledRecordPerDisablement: one disablement retried is one event;
// a later one (after an enable) is another, which the log and clients
// deduplicating by eventId would otherwise drop.
func TestDisabledRecordPerDisablement(t *testing.T) {
	ep := webhooks.Endpoint{ID: "ep1", Tenant: "acme", VendorID: "v1", URL: "https://hooks.example.com/in"}
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	a, err := webhooks.DisabledRecord(ep, at, "failing")
	require.NoError(t, err)
	again, err := webhooks.DisabledRecord(ep, at, "failing")
	require.NoError(t, err)
	later, err := webhooks.DisabledRecord(ep, at.Add(time.Hour), "failing")
	require.NoError(t, err)
	require.Equal(t, a.EventID, again.EventID, "a retried publish")
	require.NotEqual(t, a.EventID, later.EventID, "a second disablement")
}
