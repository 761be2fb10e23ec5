package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dispatchd/dispatchd/internal/webhooks"
)

var _ webhooks.Observer = (*Metrics)(nil)

// webhookMetrics count this node's webhook attempts and outcomes.
type webhookMetrics struct {
	attempts *prometheus.HistogramVec
	messages *prometheus.CounterVec
	disabled prometheus.Counter
	gaps     prometheus.Counter
}

func newWebhookMetrics(reg *prometheus.Registry) webhookMetrics {
	m := webhookMetrics{
		attempts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dispatchd_webhook_attempts_seconds",
			Help:    "Webhook HTTP attempts and their time, by result: ok (2xx), status (another HTTP status), network (connect, TLS, timeout), refused (the SSRF guard).",
			Buckets: latencyBuckets,
		}, []string{"result"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatchd_webhook_messages_total",
			Help: "Webhook messages done, by result: delivered, or expired (retried past retention and given up).",
		}, []string{"result"}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_webhook_disabled_total",
			Help: "Webhook endpoints disabled for failing every attempt for webhooks.disable_after.",
		}),
		gaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatchd_webhook_unread_positions_total",
			Help: "Log positions (of every tenant) that expired before a lagging webhook endpoint read them: some of its events may be lost.",
		}),
	}
	for _, r := range []string{webhooks.ResultOK, webhooks.ResultStatus, webhooks.ResultNetwork, webhooks.ResultRefused} {
		m.attempts.WithLabelValues(r)
	}
	for _, r := range []string{webhooks.ResultDelivered, webhooks.ResultExpired} {
		m.messages.WithLabelValues(r)
	}
	reg.MustRegister(m.attempts, m.messages, m.disabled, m.gaps)
	return m
}

// WebhookAttempt implements webhooks.Observer.
func (m *Metrics) WebhookAttempt(result string, took time.Duration) {
	m.webhooks.attempts.WithLabelValues(result).Observe(took.Seconds())
}

// WebhookMessage implements webhooks.Observer.
func (m *Metrics) WebhookMessage(result string) { m.webhooks.messages.WithLabelValues(result).Inc() }

// WebhookDisabled implements webhooks.Observer.
func (m *Metrics) WebhookDisabled() { m.webhooks.disabled.Inc() }

// WebhookGap implements webhooks.Observer.
func (m *Metrics) WebhookGap(positions uint64) { m.webhooks.gaps.Add(float64(positions)) }

// Webhooks is the sink's state, read at scrape time.
type Webhooks interface {
	Stats() webhooks.Stats
}

// WatchWebhooks exposes the sink's endpoints, waiting messages and lag.
func (m *Metrics) WatchWebhooks(w Webhooks) {
	m.reg.MustRegister(webhookCollector{w: w})
}

type webhookCollector struct{ w Webhooks }

var webhookDescs = struct {
	endpoints, waiting, lag *prometheus.Desc
}{
	endpoints: prometheus.NewDesc("dispatchd_webhook_endpoints", "Webhook endpoints this node sends for (holds the lease of).", nil, nil),
	waiting:   prometheus.NewDesc("dispatchd_webhook_waiting", "Events (log records) read for this node's webhook endpoints and not yet delivered; an endpoint reads at most a few hundred ahead.", nil, nil),
	lag:       prometheus.NewDesc("dispatchd_webhook_lag_seconds", "Age of the oldest event not yet delivered to an endpoint of this node (0: none waits).", nil, nil),
}

func (c webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- webhookDescs.endpoints
	ch <- webhookDescs.waiting
	ch <- webhookDescs.lag
}

func (c webhookCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.w.Stats()
	ch <- prometheus.MustNewConstMetric(webhookDescs.endpoints, prometheus.GaugeValue, float64(st.Endpoints))
	ch <- prometheus.MustNewConstMetric(webhookDescs.waiting, prometheus.GaugeValue, float64(st.Waiting))
	ch <- prometheus.MustNewConstMetric(webhookDescs.lag, prometheus.GaugeValue, st.Lag.Seconds())
}
