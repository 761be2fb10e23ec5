package metrics

import "github.com/prometheus/client_golang/prometheus"

// Edge is the HTTP front's refusals, read at scrape time.
type Edge interface {
	// OriginRefused counts Socket.IO requests refused for their Origin.
	OriginRefused() int64
	// ReadTimeouts counts request bodies cut by the HTTP read timeout.
	ReadTimeouts() int64
}

// WatchEdge exposes what the HTTP front refused: a page on another site,
// a client too slow to send its request.
func (m *Metrics) WatchEdge(e Edge) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dispatchd_origin_refused_total",
			Help: "Socket.IO requests (polling, preflight, WebSocket upgrade) refused with 403 because their Origin is not allowed (transport.allowed_origins).",
		}, func() float64 { return float64(e.OriginRefused()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dispatchd_http_read_timeouts_total",
			Help: "Requests whose body was not received within http.read_timeout; the connection was closed.",
		}, func() float64 { return float64(e.ReadTimeouts()) }),
	)
}
