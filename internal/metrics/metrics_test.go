package metrics

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

type fakeQueues struct{ st delivery.Stats }

func (f fakeQueues) Stats() delivery.Stats { return f.st }

type fakeTransport struct{}

func (fakeTransport) Sessions() int    { return 7 }
func (fakeTransport) Evictions() int64 { return 2 }

type fakeNS int

func (n fakeNS) Sockets() int { return int(n) }

func TestObserversAndState(t *testing.T) {
	m := New()
	m.EventIn("/drivers", "pickup:claim", orders.CodeAlreadyClaimed)
	m.EventIn("/drivers", "pickup:claim", "")
	m.Delivered("pickup:available", false)
	m.Delivered("pickup:available", true)
	m.Acked(3 * time.Millisecond)
	m.Published(time.Millisecond, nil)
	m.Published(time.Second, errors.New("down"))
	m.DB("transition", 2*time.Millisecond)
	m.Stalled(true)
	m.Stalled(true)
	m.Stalled(false) // one episode ended, one goes on
	m.Fired("offer", 300*time.Millisecond)
	m.Failed("respond_by")
	m.OfferRing(3)
	m.OfferRing(2)
	m.OfferBroadcast("rounds")
	m.OfferDeclined()
	m.WatchQueues(fakeQueues{delivery.Stats{Recipients: 3, Tenants: 2, Queued: 10, InFlight: 4, Behind: 1}})
	m.WatchTransport(fakeTransport{}, map[string]Sockets{"/drivers": fakeNS(5)})

	assert.Equal(t, 1.0, testutil.ToFloat64(m.claimConflicts))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.publishErrors))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.eventsOut.WithLabelValues("pickup:available", "replay")))

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`dispatchd_events_in_total{event="pickup:claim",namespace="/drivers",result="already_claimed"} 1`,
		`dispatchd_events_in_total{event="pickup:claim",namespace="/drivers",result="ok"} 1`,
		"dispatchd_ack_latency_seconds_count 1",
		"dispatchd_broker_publish_seconds_count 1",
		`dispatchd_db_seconds_count{op="transition"} 1`,
		"dispatchd_delivery_stalls_total 2",
		`dispatchd_deadlines_fired_total{kind="offer"} 1`,
		`dispatchd_deadline_failures_total{kind="respond_by"} 1`,
		"dispatchd_deadline_lag_seconds_count 1",
		"dispatchd_offer_rings_total 2",
		"dispatchd_offers_total 5",
		`dispatchd_offer_broadcasts_total{reason="rounds"} 1`,
		`dispatchd_offer_broadcasts_total{reason="nobody_near"} 0`,
		"dispatchd_offer_declines_total 1",
		"dispatchd_delivery_stalled_recipients 1",
		"dispatchd_queue_events 10",
		"dispatchd_queue_in_flight 4",
		"dispatchd_queue_behind 1",
		"dispatchd_tenants_connected 2",
		"dispatchd_sessions 7",
		"dispatchd_slow_consumer_evictions_total 2",
		`dispatchd_sockets{namespace="/drivers"} 5`,
	} {
		require.True(t, strings.Contains(body, want), "missing %q in\n%s", want, body)
	}
}
