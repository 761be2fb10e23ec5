package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Metrics holds a node's collectors.
type Metrics struct {
	reg *prometheus.Registry

	eventsIn       *prometheus.CounterVec
	eventsOut      *prometheus.CounterVec
	claimConflicts prometheus.Counter
	ackLatency     prometheus.Histogram
	publish        prometheus.Histogram
	publishErrors  prometheus.Counter
	stalls         prometheus.Counter
	stalled        prometheus.Gauge
	db             *prometheus.HistogramVec
	deadlines      deadlineMetrics
	offers         offerMetrics
	webhooks       webhookMetrics
}

var (
	_ delivery.Observer = (*Metrics)(nil)
	_ dispatch.Observer = (*Metrics)(nil)
)

// Latency buckets from 0.5 ms to about 8 s: a local fsync is a fraction
// of a millisecond, an ack from a phone may take seconds.
var latencyBuckets = prometheus.ExponentialBuckets(0.0005, 2, 15)

// New returns the collectors registered on a fresh registry, with the Go
// runtime's and the process's own.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		eventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatchd_events_in_total",
			Help: "Client events handled, by namespace, event and result (ok or the error code).",
		}, []string{"namespace", "event", "result"}),
		eventsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatchd_events_out_total",
			Help: "Durable events sent to a socket, by event and source: live, or replay (a catch-up from the log after a reconnect or for a recipient that fell behind: redeliveries and missed events).",
		}, []string{"event", "source"}),
		claimConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_claim_conflicts_total",
			Help: "pickup:claim answered already_claimed: another driver won.",
		}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dispatchd_ack_latency_seconds",
			Help:    "Time from sending a durable event to its client's acknowledgement.",
			Buckets: latencyBuckets,
		}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dispatchd_broker_publish_seconds",
			Help:    "Time to store one record on the JetStream log, acknowledged.",
			Buckets: latencyBuckets,
		}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_broker_publish_errors_total",
			Help: "Publishes to the JetStream log that failed (the relay retries).",
		}),
		stalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_delivery_stalls_total",
			Help: "Recipients whose window of unacknowledged events stayed full for delivery.stall_after (once per episode).",
		}),
		stalled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dispatchd_delivery_stalled_recipients",
			Help: "Recipients stalled now: their window is full and no ack has moved it for delivery.stall_after.",
		}),
		db: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dispatchd_db_seconds",
			Help:    "Time of one database operation, by operation.",
			Buckets: latencyBuckets,
		}, []string{"op"}),
	}
	reg.MustRegister(m.eventsIn, m.eventsOut, m.claimConflicts, m.ackLatency, m.publish, m.publishErrors, m.stalls, m.stalled, m.db,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.deadlines = newDeadlineMetrics(reg)
	m.offers = newOfferMetrics(reg)
	m.webhooks = newWebhookMetrics(reg)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// EventIn implements dispatch.Observer.
func (m *Metrics) EventIn(ns, event string, code orders.Code) {
	result := "ok"
	if code != "" {
		result = string(code)
	}
	m.eventsIn.WithLabelValues(ns, event, result).Inc()
	if code == orders.CodeAlreadyClaimed {
		m.claimConflicts.Inc()
	}
}

// Delivered implements delivery.Observer.
func (m *Metrics) Delivered(event string, replay bool) {
	source := "live"
	if replay {
		source = "replay"
	}
	m.eventsOut.WithLabelValues(event, source).Inc()
}

// Acked implements delivery.Observer.
func (m *Metrics) Acked(wait time.Duration) { m.ackLatency.Observe(wait.Seconds()) }

// Published implements delivery.Observer.
func (m *Metrics) Published(d time.Duration, err error) {
	if err != nil {
		m.publishErrors.Inc()
		return
	}
	m.publish.Observe(d.Seconds())
}

// Stalled implements delivery.Observer.
func (m *Metrics) Stalled(begun bool) {
	if !begun {
		m.stalled.Dec()
		return
	}
	m.stalls.Inc()
	m.stalled.Inc()
}

// DB records one database operation's time.
func (m *Metrics) DB(op string, d time.Duration) { m.db.WithLabelValues(op).Observe(d.Seconds()) }
