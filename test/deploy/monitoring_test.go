package deploy

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// loadComposeProfiles is loadCompose with compose profiles enabled.
func loadComposeProfiles(t testing.TB, file string, profiles []string, env ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{repoFile(file)}, cli.WithWorkingDirectory(root), cli.WithEnv(env),
		cli.WithProfiles(profiles))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := opts.LoadProject(ctx)
	require.NoError(t, err)
	return p
}

// TestComposeMonitoring: the monitoring profile adds Prometheus scraping
// every node directly and Grafana provisioned with that Prometheus and the
// dashboard from the repository; without the profile neither runs.
func TestComposeMonitoring(t *testing.T) {
	p := loadComposeProfiles(t, "docker-compose.yml", []string{"monitoring"}, "DISPATCH_JWT_SECRET="+jwtSecret)
	prom, ok := p.Services["prometheus"]
	require.True(t, ok, "prometheus in the monitoring profile")
	graf, ok := p.Services["grafana"]
	require.True(t, ok, "grafana in the monitoring profile")
	for _, s := range []types.ServiceConfig{prom, graf} {
		checkService(t, s)
		assert.Equal(t, []string{"monitoring"}, s.Profiles, "%s only with --profile monitoring", s.Name)
		for _, port := range s.Ports {
			assert.Equal(t, "127.0.0.1", port.HostIP, "%s is published on loopback only", s.Name)
		}
	}

	// Prometheus scrapes every node, on its own port, at /metrics.
	conf := mount(prom, "/etc/prometheus/prometheus.yml")
	require.NotNil(t, conf)
	assert.Equal(t, repoFile("configs/prometheus.yml"), conf.Source)
	var pc struct {
		ScrapeConfigs []struct {
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, conf.Source, &pc)
	var targets []string
	for _, sc := range pc.ScrapeConfigs {
		assert.Contains(t, []string{"", "/metrics"}, sc.MetricsPath)
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	var want []string
	for _, n := range nodes(p) {
		want = append(want, n.Name+":8080")
	}
	assert.ElementsMatch(t, want, targets, "every node is scraped directly")

	// Grafana: the provisioned data source is this Prometheus, and the
	// dashboards directory the provider reads is the repository's.
	prov := mount(graf, "/etc/grafana/provisioning")
	require.NotNil(t, prov)
	assert.Equal(t, repoFile("configs/grafana/provisioning"), prov.Source)
	var ds struct {
		Datasources []struct{ UID, Type, URL string } `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(prov.Source, "datasources", "prometheus.yml"), &ds)
	require.Len(t, ds.Datasources, 1)
	assert.Equal(t, "prometheus", ds.Datasources[0].Type)
	assert.Equal(t, "http://prometheus:9090", ds.Datasources[0].URL)
	var dp struct {
		Providers []struct {
			Options struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(prov.Source, "dashboards", "dispatchd.yml"), &dp)
	require.Len(t, dp.Providers, 1)
	dashboards := mount(graf, dp.Providers[0].Options.Path)
	require.NotNil(t, dashboards, "the provider's path %s is mounted", dp.Providers[0].Options.Path)
	assert.Equal(t, repoFile("configs/grafana/dashboards"), dashboards.Source)
	for _, uid := range datasourceUIDs(readDashboard(t)) {
		assert.Equal(t, ds.Datasources[0].UID, uid, "panels use the provisioned data source")
	}

	// Without the profile: the cluster alone.
	plain, err := loadCompose(t, "docker-compose.yml", "DISPATCH_JWT_SECRET="+jwtSecret)
	require.NoError(t, err)
	assert.NotContains(t, slices.Collect(maps.Keys(plain.Services)), "prometheus")
	assert.NotContains(t, slices.Collect(maps.Keys(plain.Services)), "grafana")
}

// metricName is a dispatchd series name in PromQL.
var metricName = regexp.MustCompile(`\bdispatchd_[a-z0-9_]+`)

// TestDashboardMetricsExist reads every PromQL expression of the dashboard
// and requires each dispatchd_* name to be one the server registers
// (internal/metrics), histogram series suffixes aside; and the dashboard to
// cover what an operator watches first.
func TestDashboardMetricsExist(t *testing.T) {
	registered := registeredMetrics(t)
	require.Contains(t, registered, "dispatchd_sockets", "the registrations were read")
	exprs := dashboardExprs(readDashboard(t))
	require.NotEmpty(t, exprs)
	used := map[string]bool{}
	for _, e := range exprs {
		names := metricName.FindAllString(e, -1)
		for _, n := range names {
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(n, suffix); ok && registered[b] {
					base = b
				}
			}
			assert.True(t, registered[base], "%s (in %q) is not a metric dispatchd registers", n, e)
			used[base] = true
		}
	}
	for _, m := range []string{
		"dispatchd_sockets", "dispatchd_events_in_total", "dispatchd_events_out_total",
		"dispatchd_ack_latency_seconds", "dispatchd_queue_events", "dispatchd_delivery_stalled_recipients",
		"dispatchd_claim_conflicts_total", "dispatchd_db_seconds", "dispatchd_broker_publish_seconds",
	} {
		assert.True(t, used[m], "the dashboard shows %s", m)
	}
}

// registeredMetrics collects the metric names internal/metrics registers:
// every "dispatchd_…" string literal of its non-test sources.
func registeredMetrics(t testing.TB) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(repoFile("internal/metrics/*.go"))
	require.NoError(t, err)
	lit := regexp.MustCompile(`"(dispatchd_[a-z0-9_]+)"`)
	out := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range lit.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = true
		}
	}
	return out
}

func readDashboard(t testing.TB) any {
	t.Helper()
	body, err := os.ReadFile(repoFile("configs/grafana/dashboards/dispatchd.json"))
	require.NoError(t, err)
	var d any
	require.NoError(t, json.Unmarshal(body, &d))
	return d
}

// dashboardExprs returns every "expr" string in a dashboard, at any depth
// (panels, rows, templating).
func dashboardExprs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				out = append(out, s)
			} else {
				out = append(out, dashboardExprs(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, dashboardExprs(x)...)
		}
	}
	return out
}

// datasourceUIDs returns the uid of every "datasource" object in a
// dashboard.
func datasourceUIDs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if ds, ok := x.(map[string]any); ok && k == "datasource" {
				uid, _ := ds["uid"].(string)
				out = append(out, uid)
			} else {
				out = append(out, datasourceUIDs(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, datasourceUIDs(x)...)
		}
	}
	return out
}

func readYAML(t testing.TB, path string, v any) {
	t.Helper()
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(body, v), path)
}
