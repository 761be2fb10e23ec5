package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// Sockets counts the sockets of a namespace.
type Sockets interface{ Sockets() int }

// Transport is the transport's state read at scrape time.
type Transport interface {
	Sessions() int
	Evictions() int64
}

// Queues is the durable queues' state read at scrape time.
type Queues interface{ Stats() delivery.Stats }

// WatchTransport exposes sessions, evictions and sockets per namespace.
func (m *Metrics) WatchTransport(t Transport, namespaces map[string]Sockets) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dispatchd_sessions",
			Help: "Open Engine.IO sessions (connections) on this node.",
		}, func() float64 { return float64(t.Sessions()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dispatchd_slow_consumer_evictions_total",
			Help: "Sessions closed because their send queue was full.",
		}, func() float64 { return float64(t.Evictions()) }),
	)
	for name, ns := range namespaces {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "dispatchd_sockets",
			Help:        "Connected sockets on this node, by namespace.",
			ConstLabels: prometheus.Labels{"namespace": name},
		}, func() float64 { return float64(ns.Sockets()) }))
	}
}

// WatchQueues exposes the durable queues of this node. Every gauge reads
// one snapshot: a scrape takes the queues' locks once.
func (m *Metrics) WatchQueues(q Queues) {
	m.reg.MustRegister(queueCollector{q: q})
}

// queueCollector reads Stats once per scrape for all its gauges.
type queueCollector struct{ q Queues }

var queueDescs = struct {
	recipients, tenants, queued, inFlight, behind *prometheus.Desc
}{
	recipients: prometheus.NewDesc("dispatchd_queue_recipients", "Recipients (users) with a socket on this node.", nil, nil),
	tenants:    prometheus.NewDesc("dispatchd_tenants_connected", "Distinct tenants with a socket on this node.", nil, nil),
	queued:     prometheus.NewDesc("dispatchd_queue_events", "Durable events held in memory for this node's recipients, sent or not.", nil, nil),
	inFlight:   prometheus.NewDesc("dispatchd_queue_in_flight", "Durable events sent and not yet acknowledged.", nil, nil),
	behind:     prometheus.NewDesc("dispatchd_queue_behind", "Recipients catching up from the log instead of taking the live stream.", nil, nil),
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDescs.recipients
	ch <- queueDescs.tenants
	ch <- queueDescs.queued
	ch <- queueDescs.inFlight
	ch <- queueDescs.behind
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.q.Stats()
	ch <- prometheus.MustNewConstMetric(queueDescs.recipients, prometheus.GaugeValue, float64(st.Recipients))
	ch <- prometheus.MustNewConstMetric(queueDescs.tenants, prometheus.GaugeValue, float64(st.Tenants))
	ch <- prometheus.MustNewConstMetric(queueDescs.queued, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(queueDescs.inFlight, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(queueDescs.behind, prometheus.GaugeValue, float64(st.Behind))
}

// Writes is the store's write batching, read at scrape time: writes
// asked and the commits that made them durable.
type Writes interface {
	WriteCounts() (writes, commits uint64)
}

// WatchWrites exposes how many writes each commit carries (group commit).
func (m *Metrics) WatchWrites(w Writes) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dispatchd_db_writes_total",
			Help: "Write operations run by the store's group writer (SQLite; 0 on PostgreSQL).",
		}, func() float64 { n, _ := w.WriteCounts(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dispatchd_db_commits_total",
			Help: "Transactions the group writer committed; writes/commits is the mean group size.",
		}, func() float64 { _, n := w.WriteCounts(); return float64(n) }),
	)
}
