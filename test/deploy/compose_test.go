package deploy

import (
	"context"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// jwtSecret stands in for the operator's DISPATCH_JWT_SECRET.
const jwtSecret = "deploy-test-secret-of-at-least-32-bytes"

// loadCompose loads a compose file as `docker compose` would, with env as
// the only environment for interpolation.
func loadCompose(t testing.TB, file string, env ...string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{repoFile(file)}, cli.WithWorkingDirectory(root), cli.WithEnv(env))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return opts.LoadProject(ctx)
}

// nodes returns the services built from the repository's Dockerfile.
func nodes(p *types.Project) []types.ServiceConfig {
	var out []types.ServiceConfig
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		if s.Build != nil && s.Build.Context == root && (s.Build.Dockerfile == "" || s.Build.Dockerfile == "Dockerfile") {
			out = append(out, s)
		}
	}
	return out
}

// environ is a service's environment as KEY=VALUE strings.
func environ(s types.ServiceConfig) map[string]string {
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	return env
}

// mount returns the service's volume mounted at target.
func mount(s types.ServiceConfig, target string) *types.ServiceVolumeConfig {
	for _, v := range s.Volumes {
		if v.Target == target {
			return &v
		}
	}
	return nil
}

// checkService holds what every service and every node must have.
func checkService(t *testing.T, s types.ServiceConfig) {
	t.Helper()
	require.NotNil(t, s.HealthCheck, "%s has a healthcheck", s.Name)
	assert.False(t, s.HealthCheck.Disable, "%s healthcheck disabled", s.Name)
	assert.GreaterOrEqual(t, len(s.HealthCheck.Test), 2, "%s healthcheck test", s.Name)
	for dep, d := range s.DependsOn {
		assert.Equal(t, types.ServiceConditionHealthy, d.Condition, "%s waits for %s to be healthy", s.Name, dep)
	}
}

// checkNode checks a dispatchd service: healthcheck through the binary,
// only settings dispatchd knows, and values it accepts.
func checkNode(t *testing.T, s types.ServiceConfig) {
	t.Helper()
	checkService(t, s)
	require.GreaterOrEqual(t, len(s.HealthCheck.Test), 3)
	assert.Equal(t, []string{"CMD", "/dispatchd", "health"}, []string(s.HealthCheck.Test[:3]), "%s probes itself", s.Name)

	names := envNames(t)
	env := environ(s)
	for k := range env {
		assert.Contains(t, names, k, "%s: %s is not a setting dispatchd reads", s.Name, k)
	}
	assert.Equal(t, jwtSecret, env["DISPATCH_JWT_SECRET"], "%s takes the secret from the environment", s.Name)

	// What the container runs with: the image's ENV, then the service's.
	full := image(t).env(t)
	maps.Copy(full, env)
	var kv []string
	for k, v := range full {
		kv = append(kv, k+"="+v)
	}
	out, err := dispatchd(t, kv, "config", "check", "--env", repoFile("configs/dispatchd.yaml"))
	require.NoError(t, err, "%s: its settings do not validate", s.Name)
	assert.Equal(t, "ok\n", out)

	// The image listens on DISPATCH_ADDR; the probe's URL must match it.
	if len(s.HealthCheck.Test) > 3 {
		probe := s.HealthCheck.Test[3:]
		require.Equal(t, "--url", probe[0])
		u, err := url.Parse(probe[1])
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1:8080", u.Host)
	}
}

func TestComposeNeedsJWTSecret(t *testing.T) {
	for _, file := range []string{"docker-compose.yml", "docker-compose.single.yml"} {
		t.Run(file, func(t *testing.T) {
			_, err := loadCompose(t, file)
			require.Error(t, err, "no insecure default for DISPATCH_JWT_SECRET")
			assert.ErrorContains(t, err, "set DISPATCH_JWT_SECRET")
		})
	}
}

func TestComposeCluster(t *testing.T) {
	p, err := loadCompose(t, "docker-compose.yml", "DISPATCH_JWT_SECRET="+jwtSecret)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"nats", "postgres", "dispatchd-1", "dispatchd-2", "lb"}, slices.Collect(maps.Keys(p.Services)))
	for _, s := range p.Services {
		checkService(t, s)
	}
	natsSvc, pg, lb := p.Services["nats"], p.Services["postgres"], p.Services["lb"]

	t.Run("nodes", func(t *testing.T) {
		ns := nodes(p)
		require.Len(t, ns, 2, "two dispatchd nodes built from the Dockerfile")
		for _, n := range ns {
			checkNode(t, n)
			assert.ElementsMatch(t, []string{"nats", "postgres"}, slices.Collect(maps.Keys(n.DependsOn)), n.Name)
			assert.Empty(t, n.Ports, "%s is reached through the load balancer only", n.Name)
			assert.Equal(t, "1", environ(n)["DISPATCH_NATS_REPLICAS"], "one NATS server holds one replica")

			nu, err := url.Parse(environ(n)["DISPATCH_NATS_URL"])
			require.NoError(t, err)
			assert.Equal(t, "nats", nu.Scheme)
			assert.Equal(t, "nats:4222", nu.Host, "%s points at the nats service", n.Name)

			du, err := url.Parse(environ(n)["DISPATCH_DATABASE_URL"])
			require.NoError(t, err)
			assert.Equal(t, "postgres", du.Scheme)
			assert.Equal(t, "postgres:5432", du.Host, "%s points at the postgres service", n.Name)
			pw, _ := du.User.Password()
			assert.Equal(t, environ(pg)["POSTGRES_USER"], du.User.Username())
			assert.Equal(t, environ(pg)["POSTGRES_PASSWORD"], pw)
			assert.Equal(t, "/"+environ(pg)["POSTGRES_DB"], du.Path)
		}
		// One cluster: the same NATS and the same database (CONTRACT.md,
		// "Running"), as the cluster tests start it.
		assert.Equal(t, environ(ns[0])["DISPATCH_NATS_URL"], environ(ns[1])["DISPATCH_NATS_URL"])
		assert.Equal(t, environ(ns[0])["DISPATCH_DATABASE_URL"], environ(ns[1])["DISPATCH_DATABASE_URL"])
	})

	t.Run("nats", func(t *testing.T) {
		// The nats-server the embedded broker is and the CI's external
		// one is built from (go.mod): one version everywhere.
		assert.Equal(t, "nats:"+natsServerVersion(t)+"-alpine", natsSvc.Image)
		data := mount(natsSvc, "/data")
		require.NotNil(t, data, "JetStream store on a volume at /data")
		assert.Equal(t, types.VolumeTypeVolume, data.Type)
		assert.Contains(t, p.Volumes, data.Source, "a named volume")

		cmd := []string(natsSvc.Command)
		i := slices.Index(cmd, "--config")
		require.GreaterOrEqual(t, i, 0, "nats runs with a config file: %v", cmd)
		require.Less(t, i+1, len(cmd))
		conf := mount(natsSvc, cmd[i+1])
		require.NotNil(t, conf, "the config file is mounted at %s", cmd[i+1])
		assert.Equal(t, repoFile("configs/nats.conf"), conf.Source)

		// The server's own parser: unknown fields are errors there too.
		opts, err := server.ProcessConfigFile(conf.Source)
		require.NoError(t, err)
		assert.True(t, opts.JetStream, "jetstream enabled")
		assert.Equal(t, "/data", opts.StoreDir)
		assert.True(t, opts.SyncAlways, "sync_interval: always")
		assert.Equal(t, 4222, opts.Port)
		assert.Equal(t, 8222, opts.HTTPPort)
		assert.Contains(t, strings.Join(natsSvc.HealthCheck.Test, " "), "127.0.0.1:8222/healthz")
	})

	t.Run("postgres", func(t *testing.T) {
		assert.True(t, strings.HasPrefix(pg.Image, "postgres:16"), pg.Image)
		assert.NotEmpty(t, environ(pg)["POSTGRES_PASSWORD"])
		data := mount(pg, "/var/lib/postgresql/data")
		require.NotNil(t, data)
		assert.Equal(t, types.VolumeTypeVolume, data.Type)
		assert.Contains(t, p.Volumes, data.Source, "a named volume")
		assert.Contains(t, pg.HealthCheck.Test, "pg_isready")
	})

	t.Run("lb", func(t *testing.T) {
		assert.True(t, strings.HasPrefix(lb.Image, "nginx:1.27"), lb.Image)
		require.Len(t, lb.Ports, 1)
		assert.Equal(t, "8080", lb.Ports[0].Published)
		assert.EqualValues(t, 8080, lb.Ports[0].Target)
		var names []string
		for _, n := range nodes(p) {
			names = append(names, n.Name)
		}
		assert.ElementsMatch(t, names, slices.Collect(maps.Keys(lb.DependsOn)), "lb waits for every node")
		conf := mount(lb, "/etc/nginx/nginx.conf")
		require.NotNil(t, conf)
		assert.Equal(t, repoFile("configs/nginx.conf"), conf.Source)
		checkNginx(t, conf.Source, names, lb.Ports[0].Target)
	})
}

// checkNginx checks the load balancer's config: it listens where compose
// publishes, balances over exactly the nodes, sticks a client to one node
// and passes websocket upgrades.
func checkNginx(t *testing.T, path string, nodes []string, port uint32) {
	http := one(t, parseNginx(t, path), "http")
	up := one(t, http.block, "upstream")
	require.Len(t, up.args, 1)
	var servers []string
	for _, s := range find(up.block, "server") {
		servers = append(servers, s.args[0])
	}
	var want []string
	for _, n := range nodes {
		want = append(want, n+":8080")
	}
	assert.ElementsMatch(t, want, servers, "the upstream is the compose nodes on their port")

	sticky := len(find(up.block, "ip_hash")) > 0
	for _, h := range find(up.block, "hash") {
		sticky = sticky || slices.Contains(h.args, "$remote_addr")
	}
	assert.True(t, sticky, "long-polling sessions live in one node: hash on the client address (ip_hash or hash $remote_addr)")

	srv := one(t, http.block, "server")
	assert.Equal(t, []string{strconv.FormatUint(uint64(port), 10)}, one(t, srv.block, "listen").args, "nginx listens on the published target port")
	for _, path := range []string{"/socket.io/", "/api/", "/healthz", "/readyz", "/console/"} {
		loc := location(srv, path)
		if !assert.NotNil(t, loc, "location %s", path) {
			continue
		}
		assert.Equal(t, []string{"http://" + up.args[0]}, one(t, loc.block, "proxy_pass").args, "%s goes to the nodes", path)
	}

	// Metrics are scraped on the compose network, node by node; the
	// public side is refused them.
	metrics := location(srv, "/metrics")
	require.NotNil(t, metrics, "location = /metrics")
	assert.Empty(t, find(metrics.block, "proxy_pass"), "/metrics is not proxied")
	assert.Equal(t, []string{"all"}, one(t, metrics.block, "deny").args, "/metrics: deny all")

	sio := location(srv, "/socket.io/")
	require.NotNil(t, sio)
	h := headers(srv, sio)
	assert.Equal(t, "$http_upgrade", h["upgrade"], "proxy_set_header Upgrade $http_upgrade")
	// With transport.allowed_origins empty a browser is served when its
	// Origin is the Host the node sees, port included ($host drops it).
	assert.Equal(t, "$http_host", h["host"], "proxy_set_header Host $http_host")
	conn := h["connection"]
	if strings.HasPrefix(conn, "$") {
		// A map from $http_upgrade; "upgrade" for upgrade requests.
		var mapped bool
		for _, m := range find(http.block, "map") {
			if len(m.args) == 2 && m.args[0] == "$http_upgrade" && m.args[1] == conn {
				d := find(m.block, "default")
				mapped = len(d) == 1 && strings.EqualFold(d[0].args[0], "upgrade")
			}
		}
		assert.True(t, mapped, "Connection %s maps $http_upgrade to upgrade", conn)
	} else {
		assert.True(t, strings.EqualFold(conn, "upgrade"), "proxy_set_header Connection upgrade, got %q", conn)
	}
	assert.Equal(t, []string{"1.1"}, inherited(srv, sio, "proxy_http_version"), "websocket needs HTTP/1.1 upstream")

	// A long poll is held up to ping_interval and a websocket is silent at
	// most ping_interval + ping_timeout: the proxy must wait longer.
	var cfg struct {
		Transport struct {
			PingInterval time.Duration `yaml:"ping_interval"`
			PingTimeout  time.Duration `yaml:"ping_timeout"`
		} `yaml:"transport"`
	}
	body, err := os.ReadFile(repoFile("configs/dispatchd.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(body, &cfg))
	rt := inherited(srv, sio, "proxy_read_timeout")
	require.Len(t, rt, 1, "proxy_read_timeout for /socket.io/ (the 60s default is too close)")
	d, err := time.ParseDuration(rt[0])
	require.NoError(t, err)
	assert.Greater(t, d, cfg.Transport.PingInterval+cfg.Transport.PingTimeout)
}

func TestComposeSingle(t *testing.T) {
	p, err := loadCompose(t, "docker-compose.single.yml", "DISPATCH_JWT_SECRET="+jwtSecret)
	require.NoError(t, err)
	require.Len(t, p.Services, 1, "one node, nothing else")
	ns := nodes(p)
	require.Len(t, ns, 1)
	n := ns[0]
	checkNode(t, n)
	env := environ(n)
	assert.Empty(t, env["DISPATCH_NATS_URL"], "embedded NATS")
	assert.Empty(t, env["DISPATCH_DATABASE_URL"], "SQLite in the data dir")

	dataDir := image(t).env(t)["DISPATCH_DATA_DIR"]
	data := mount(n, dataDir)
	require.NotNil(t, data, "the data dir %s is a named volume: SQLite and JetStream survive the container", dataDir)
	assert.Equal(t, types.VolumeTypeVolume, data.Type)
	assert.Contains(t, p.Volumes, data.Source)
	require.Len(t, n.Ports, 1)
	assert.Equal(t, "8080", n.Ports[0].Published)
	assert.EqualValues(t, 8080, n.Ports[0].Target)
}

// TestComposeFilesExist keeps the README's commands pointing at real files.
func TestComposeFilesExist(t *testing.T) {
	readme, err := os.ReadFile(repoFile("README.md"))
	require.NoError(t, err)
	for _, f := range []string{"docker-compose.yml", "docker-compose.single.yml", "Dockerfile", "configs/nats.conf", "configs/nginx.conf"} {
		_, err := os.Stat(repoFile(f))
		assert.NoError(t, err)
		assert.True(t, strings.Contains(string(readme), filepath.Base(f)), "README mentions %s", f)
	}
}

// natsServerVersion is go.mod's github.com/nats-io/nats-server/v2
// version, without its "v".
func natsServerVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(repoFile("go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*github\.com/nats-io/nats-server/v2 v(\S+)`).FindSubmatch(b)
	require.NotNil(t, m, "go.mod requires nats-server")
	return string(m[1])
}
