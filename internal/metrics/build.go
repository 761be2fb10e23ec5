package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dispatchd/dispatchd/internal/buildinfo"
)

// SetBuild registers dispatchd_build_info, always 1, whose labels name the
// running build: joined on in PromQL, it shows which version each node
// runs and when a roll-out reached it.
func (m *Metrics) SetBuild(b buildinfo.Info) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "dispatchd_build_info",
		Help: "Always 1; the labels name the running build (version, VCS revision, Go version).",
		ConstLabels: prometheus.Labels{
			"version": b.Version, "revision": b.Revision, "go_version": b.GoVersion,
		},
	})
	g.Set(1)
	m.reg.MustRegister(g)
}
