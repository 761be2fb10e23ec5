package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dispatchd/dispatchd/internal/dispatch"
)

var _ dispatch.OfferObserver = (*Metrics)(nil)

// offerMetrics count what the nearest strategy did on this node.
type offerMetrics struct {
	rings     prometheus.Counter
	offered   prometheus.Counter
	broadcast *prometheus.CounterVec
	declined  prometheus.Counter
}

func newOfferMetrics(reg *prometheus.Registry) offerMetrics {
	m := offerMetrics{
		rings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_offer_rings_total",
			Help: "Rings of pickup:offer the nearest strategy sent from this node.",
		}),
		offered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_offers_total",
			Help: "pickup:offer events sent (one per driver of a ring).",
		}),
		broadcast: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatchd_offer_broadcasts_total",
			Help: "Nearest orders that fell back to broadcast, by reason (rounds: every ring passed; nobody_near: no on-duty driver left within the radius).",
		}, []string{"reason"}),
		declined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_offer_declines_total",
			Help: "pickup:decline answers accepted.",
		}),
	}
	for _, r := range []string{dispatch.BroadcastAfterRounds, dispatch.BroadcastNobodyNear} {
		m.broadcast.WithLabelValues(r) // present at 0 from the start
	}
	reg.MustRegister(m.rings, m.offered, m.broadcast, m.declined)
	return m
}

// OfferRing implements dispatch.OfferObserver.
func (m *Metrics) OfferRing(drivers int) {
	m.offers.rings.Inc()
	m.offers.offered.Add(float64(drivers))
}

// OfferBroadcast implements dispatch.OfferObserver.
func (m *Metrics) OfferBroadcast(reason string) { m.offers.broadcast.WithLabelValues(reason).Inc() }

// OfferDeclined implements dispatch.OfferObserver.
func (m *Metrics) OfferDeclined() { m.offers.declined.Inc() }
