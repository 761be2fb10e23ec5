package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
)

var _ deadline.Observer = (*Metrics)(nil)

// deadlineMetrics count what this node's deadline runner fired.
type deadlineMetrics struct {
	fired  *prometheus.CounterVec
	failed *prometheus.CounterVec
	lag    prometheus.Histogram
}

func newDeadlineMetrics(reg *prometheus.Registry) deadlineMetrics {
	m := deadlineMetrics{
		fired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatchd_deadlines_fired_total",
			Help: "Order deadlines (offer expiry, respondBy) this node acted on, by kind.",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatchd_deadline_failures_total",
			Help: "Order deadline handlers that failed (retried after the lease), by kind.",
		}, []string{"kind"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dispatchd_deadline_lag_seconds",
			Help:    "Time from an order deadline being due to its handler succeeding (the contract's bound is 1 s).",
			Buckets: latencyBuckets,
		}),
	}
	reg.MustRegister(m.fired, m.failed, m.lag)
	return m
}

// Fired implements deadline.Observer.
func (m *Metrics) Fired(kind string, lag time.Duration) {
	m.deadlines.fired.WithLabelValues(kind).Inc()
	m.deadlines.lag.Observe(lag.Seconds())
}

// Failed implements deadline.Observer.
func (m *Metrics) Failed(kind string) { m.deadlines.failed.WithLabelValues(kind).Inc() }
