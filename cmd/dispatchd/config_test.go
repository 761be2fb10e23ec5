package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/dispatchd/dispatchd/internal/auth"
)

// writeFile writes a config file into the test's temp dir and returns its path.
func writeFile(t testing.TB, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dispatchd.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// envMap turns a map into a getenv function.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// parseFlags parses serve-style flags as run does.
func parseFlags(t testing.TB, args ...string) *configFlags {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf := newConfigFlags(fs)
	require.NoError(t, fs.Parse(args))
	cf.collect(fs)
	return cf
}

func TestLoadConfig(t *testing.T) {
	const fileBody = `
data_dir: /var/lib/dispatchd
http:
  addr: "127.0.0.1:9000"
  shutdown_timeout: 3s
transport:
  ping_interval: 10s
  max_payload: 5000
  allowed_origins: ["https://a.example"]
nats:
  url: nats://10.0.0.1:4222
log:
  level: debug
`
	file := writeFile(t, fileBody)

	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		want  func(c *Config)
		noDef bool
	}{
		{
			name: "defaults",
			want: func(c *Config) {},
		},
		{
			name: "file via flag",
			args: []string{"--config", file},
			want: func(c *Config) {
				c.DataDir = "/var/lib/dispatchd"
				c.HTTP.Addr = "127.0.0.1:9000"
				c.HTTP.ShutdownTimeout = 3 * time.Second
				c.Transport.PingInterval = 10 * time.Second
				c.Transport.MaxPayload = 5000
				c.Transport.AllowedOrigins = []string{"https://a.example"}
				c.NATS.URL = "nats://10.0.0.1:4222"
				c.Log.Level = "debug"
			},
		},
		{
			name: "file via env",
			env:  map[string]string{"DISPATCH_CONFIG": file},
			want: func(c *Config) {
				c.DataDir = "/var/lib/dispatchd"
				c.HTTP.Addr = "127.0.0.1:9000"
				c.HTTP.ShutdownTimeout = 3 * time.Second
				c.Transport.PingInterval = 10 * time.Second
				c.Transport.MaxPayload = 5000
				c.Transport.AllowedOrigins = []string{"https://a.example"}
				c.NATS.URL = "nats://10.0.0.1:4222"
				c.Log.Level = "debug"
			},
		},
		{
			name: "env beats file",
			args: []string{"--config", file},
			env: map[string]string{
				"DISPATCH_ADDR":                   ":7000",
				"DISPATCH_JWT_SECRET":             "s3cret",
				"DISPATCH_DATA_DIR":               "/tmp/d",
				"DISPATCH_NATS_URL":               "nats://a:1,nats://b:2",
				"DISPATCH_DATABASE_URL":           "postgres://u@h:5432/db",
				"DISPATCH_LOG_LEVEL":              "warn",
				"DISPATCH_PING_INTERVAL":          "300ms",
				"DISPATCH_PING_TIMEOUT":           "200ms",
				"DISPATCH_MAX_PAYLOAD":            "42",
				"DISPATCH_CONNECT_TIMEOUT":        "1m",
				"DISPATCH_MAX_CONNECTIONS":        "9",
				"DISPATCH_ALLOWED_ORIGINS":        " https://x.example , http://localhost:3000,",
				"DISPATCH_AUTH_EXPIRING_LEAD":     "90s",
				"DISPATCH_WEBHOOKS_ALLOW_PRIVATE": "true",
				"DISPATCH_WEBHOOKS_DISABLE_AFTER": "2m",
				"DISPATCH_PUBLIC_URL":             "https://track.example",
			},
			want: func(c *Config) {
				c.DataDir = "/tmp/d"
				c.HTTP.PublicURL = "https://track.example"
				c.HTTP.Addr = ":7000"
				c.HTTP.ShutdownTimeout = 3 * time.Second
				c.Auth.Secret = auth.Secret("s3cret")
				c.Auth.ExpiringLead = 90 * time.Second
				c.NATS.URL = "nats://a:1,nats://b:2"
				c.Store.DatabaseURL = "postgres://u@h:5432/db"
				c.Log.Level = "warn"
				c.Transport.PingInterval = 300 * time.Millisecond
				c.Transport.PingTimeout = 200 * time.Millisecond
				c.Transport.MaxPayload = 42
				c.Transport.ConnectTimeout = time.Minute
				c.Transport.MaxConnections = 9
				c.Transport.AllowedOrigins = []string{"https://x.example", "http://localhost:3000"}
				c.Webhooks.AllowPrivate = true
				c.Webhooks.DisableAfter = 2 * time.Minute
			},
		},
		{
			name: "flags beat env",
			args: []string{"--addr", "127.0.0.1:0", "--log-level", "error", "--data-dir", "/flag"},
			env:  map[string]string{"DISPATCH_ADDR": ":7000", "DISPATCH_LOG_LEVEL": "warn", "DISPATCH_DATA_DIR": "/env"},
			want: func(c *Config) {
				c.HTTP.Addr = "127.0.0.1:0"
				c.Log.Level = "error"
				c.DataDir = "/flag"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(parseFlags(t, tt.args...), envMap(tt.env))
			require.NoError(t, err)
			want := DefaultConfig()
			tt.want(&want)
			assert.Equal(t, want, got)
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		env      map[string]string
		contains []string
	}{
		{
			name:     "unknown key",
			file:     "http:\n  adr: \":1\"\n",
			contains: []string{"field adr not found"},
		},
		{
			name:     "unknown top-level key",
			file:     "jwt_secret: x\n",
			contains: []string{"field jwt_secret not found"},
		},
		{
			name:     "bare integer is not a duration",
			file:     "transport:\n  ping_interval: 25\n",
			contains: []string{"line 2", "time.Duration"},
		},
		{
			name:     "bad duration string in file",
			file:     "http:\n  shutdown_timeout: soon\n",
			contains: []string{"soon"},
		},
		{
			name: "every bad env var reported",
			env: map[string]string{
				"DISPATCH_PING_INTERVAL":   "fast",
				"DISPATCH_MAX_PAYLOAD":     "big",
				"DISPATCH_MAX_CONNECTIONS": "1.5",
			},
			contains: []string{"DISPATCH_PING_INTERVAL", "DISPATCH_MAX_PAYLOAD", "DISPATCH_MAX_CONNECTIONS"},
		},
		{
			name:     "env values are validated",
			env:      map[string]string{"DISPATCH_ADDR": "nope", "DISPATCH_LOG_LEVEL": "loud"},
			contains: []string{"invalid config", "http.addr", "log.level"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			if tt.file != "" {
				args = []string{"--config", writeFile(t, tt.file)}
			}
			_, err := loadConfig(parseFlags(t, args...), envMap(tt.env))
			require.Error(t, err)
			for _, s := range tt.contains {
				assert.ErrorContains(t, err, s)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	cf := parseFlags(t, "--config", filepath.Join(t.TempDir(), "absent.yaml"))
	_, err := loadConfig(cf, envMap(nil))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadConfigEmptyFile(t *testing.T) {
	got, err := loadConfig(parseFlags(t, "--config", writeFile(t, "# only comments\n")), envMap(nil))
	require.NoError(t, err)
	assert.Equal(t, DefaultConfig(), got)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(c *Config)
		contains []string
	}{
		{name: "defaults are valid", mutate: func(c *Config) {}},
		{
			name: "valid extremes",
			mutate: func(c *Config) {
				c.HTTP.Addr = "[::1]:0"
				c.NATS.URL = "nats://a:4222, tls://b:4222"
				c.Store.DatabaseURL = "postgresql://u:p@h/db?sslmode=disable"
				c.Transport.AllowedOrigins = []string{"http://localhost:5173", "*"}
				c.HTTP.ReadTimeout = c.HTTP.ReadHeaderTimeout
				c.HTTP.PublicURL = "https://shop.example/dispatch/"
				c.Log.Format = "console"
			},
		},
		{
			name: "every problem at once",
			mutate: func(c *Config) {
				c.DataDir = ""
				c.HTTP.Addr = "8080"
				c.HTTP.ReadHeaderTimeout = 0
				c.HTTP.ShutdownTimeout = -time.Second
				c.HTTP.BodyLimit = 0
				c.HTTP.PublicURL = "ftp://x/?y"
				c.Transport.PingInterval = 0
				c.Transport.PingTimeout = 0
				c.Transport.ConnectTimeout = 0
				c.Transport.UpgradeTimeout = 0
				c.Transport.WriteTimeout = 0
				c.Transport.MaxPayload = 0
				c.Transport.SendQueue = 0
				c.Transport.MaxConnections = -1
				c.HTTP.ReadTimeout = 0
				c.HTTP.IdleTimeout = -time.Second
				c.Transport.AllowedOrigins = []string{"*.example", "https://a.example/path"}
				c.NATS.URL = "http://x"
				c.Store.DatabaseURL = "mysql://u:hunter2@h/db"
				c.Log.Level = "chatty"
				c.Log.Format = "xml"
			},
			contains: []string{
				"data_dir", "http.addr", "http.read_header_timeout", "http.shutdown_timeout", "http.body_limit", "http.public_url",
				"transport.ping_interval", "transport.ping_timeout", "transport.connect_timeout",
				"transport.upgrade_timeout", "transport.write_timeout", "transport.max_payload",
				"transport.send_queue", "transport.max_connections",
				"http.read_timeout", "http.idle_timeout",
				`transport.allowed_origins "*.example"`, `transport.allowed_origins "https://a.example/path"`,
				"nats.url", "store.database_url", "log.level", "log.format",
			},
		},
		{
			name: "every section's own checks, named by section",
			mutate: func(c *Config) {
				c.Tenants.MaxWatches = 0
				c.Tenants.EventsPerSecond = -1
				c.Tenants.AvgSpeedMPS = 0
				c.Tenants.DetourFactor = 0.5
				c.Tenants.PositionTTL = -time.Second
				c.Tenants.DeadlinePoll = 2 * time.Second
				c.Tenants.RespondBy = -time.Second
				c.Auth.ExpiringLead = 0
				c.Delivery.Retention = 0
				c.Delivery.Window = 8
				c.Delivery.QueueLimit = 4
				c.Delivery.StallAfter = 0
				c.Transport.MaxPendingAcks = 4
				c.Transport.ShutdownSpread = -time.Second
				c.NATS.Stream = "a.b"
				c.NATS.Replicas = 9
				c.Debug.PprofAddr = "6060"
				c.Webhooks.Concurrency = 0
				c.Webhooks.Lease = c.Webhooks.Poll
			},
			contains: []string{
				"tenants.max_watches must be positive", "tenants.events_per_second must be positive",
				"tenants.avg_speed_mps must be positive, got 0", "tenants.detour_factor must be at least 1, got 0.5",
				"tenants.position_ttl must be positive, got -1s",
				"tenants.deadline_poll must be positive and at most 1s, got 2s",
				"tenants.respond_by must be positive, got -1s",
				"auth.expiring_lead must be positive, got 0s",
				"delivery.retention must be positive", "delivery.queue_limit must be at least window (8), got 4",
				"delivery.stall_after must be positive, got 0s",
				"transport.max_pending_acks must be at least two delivery windows (16), got 4",
				"transport.shutdown_spread must not be negative", `nats.stream "a.b"`, "nats.replicas must be 1 to 5, got 9",
				`debug.pprof_addr "6060"`,
				"webhooks.concurrency must be positive, got 0", "webhooks.lease (1s) must be more than twice poll (1s)",
			},
		},
		{
			name: "read timeout shorter than the header timeout",
			mutate: func(c *Config) {
				c.HTTP.ReadHeaderTimeout = 10 * time.Second
				c.HTTP.ReadTimeout = 5 * time.Second
			},
			contains: []string{"http.read_timeout (5s) must be at least http.read_header_timeout (10s)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.contains) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, s := range tt.contains {
				assert.ErrorContains(t, err, s)
			}
			assert.NotContains(t, err.Error(), "hunter2", "database passwords must not leak into errors")
		})
	}
}

// TestExampleConfig keeps configs/dispatchd.yaml in step with DefaultConfig:
// the file, read over a zero Config, must set every key the file may set
// to its default. Fields without a yaml key (wiring, and the values cmd
// passes between sections) are left out of the comparison by marshalling.
func TestExampleConfig(t *testing.T) {
	var got Config
	require.NoError(t, got.loadFile(filepath.Join("..", "..", "configs", "dispatchd.yaml")))
	assert.Empty(t, got.Transport.AllowedOrigins)
	want, err := yaml.Marshal(DefaultConfig())
	require.NoError(t, err)
	have, err := yaml.Marshal(got)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(have))
}

func TestRetentionFromEnvironment(t *testing.T) {
	cfg, err := loadConfig(parseFlags(t), envMap(map[string]string{"DISPATCH_RETENTION": "2h"}))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, cfg.Delivery.Retention)
	assert.Equal(t, 24*time.Hour, DefaultConfig().Delivery.Retention, "the contract's default")
}

// TestShortAdminTokenRefused: the admin token guards every tenant's keys;
// a short one is refused at start, by name.
func TestShortAdminTokenRefused(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Admin.Token = "short"
	require.ErrorContains(t, cfg.Validate(), "DISPATCH_ADMIN_TOKEN must be at least 32 bytes")
	cfg.Admin.Token = "an-admin-token-of-thirty-two-b!!"
	require.NoError(t, cfg.Validate())
}
