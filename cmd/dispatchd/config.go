package main

import (
	"slices"
	"time"

	"go.uber.org/zap"
)

// devJWTSecret signs tokens when no secret is configured, so that a bare
// `go run ./cmd/dispatchd` and `dispatchd token` work together out of the box.
// It is public knowledge: serve warns loudly whenever it is in use.
const devJWTSecret = "dispatchd-development-secret-do-not-use-in-production"

// minJWTSecretLen is the HS256 key size RFC 7518 asks for (256 bits).
const minJWTSecretLen = 32

// Config is the whole configuration of the binary, nested by concern. Each
// package receives only its own sub-struct; nothing below cmd reads the
// environment or files.
type Config struct {
	// DataDir holds embedded state (SQLite database, embedded NATS JetStream).
	DataDir   string          `yaml:"data_dir"`
	HTTP      HTTPConfig      `yaml:"http"`
	Transport TransportConfig `yaml:"transport"`
	Auth      AuthConfig      `yaml:"auth"`
	Tenants   TenantsConfig   `yaml:"tenants"`
	Delivery  DeliveryConfig  `yaml:"delivery"`
	NATS      NATSConfig      `yaml:"nats"`
	Store     StoreConfig     `yaml:"store"`
	Log       LogConfig       `yaml:"log"`
	Debug     DebugConfig     `yaml:"debug"`
}

// DebugConfig exposes the Go profiler, for measuring under load.
type DebugConfig struct {
	// PprofAddr serves net/http/pprof on this address (e.g.
	// 127.0.0.1:6060); empty: off. Never expose it publicly.
	PprofAddr string `yaml:"pprof_addr"`
}

// HTTPConfig configures the listener and the echo server.
type HTTPConfig struct {
	Addr              string        `yaml:"addr"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, headers and body, so a
	// trickled body cannot hold a connection (slowloris). It does not
	// bound the answer: long-polling GETs are held past it, and
	// WebSockets are hijacked and live on heartbeats.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes a keep-alive connection waiting this long for
	// its next request.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the whole drain after SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// BodyLimit caps REST request bodies in bytes; Socket.IO polling bodies
	// are bounded by Transport.MaxPayload instead.
	BodyLimit int64 `yaml:"body_limit"`
}

// TransportConfig mirrors transport.Config with file and environment names;
// serve converts it, so this file does not depend on the transport package.
type TransportConfig struct {
	PingInterval   time.Duration `yaml:"ping_interval"`
	PingTimeout    time.Duration `yaml:"ping_timeout"`
	MaxPayload     int           `yaml:"max_payload"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	UpgradeTimeout time.Duration `yaml:"upgrade_timeout"`
	WriteTimeout   time.Duration `yaml:"write_timeout"`
	SendQueue      int           `yaml:"send_queue"`
	// MaxConnections is 0 for unlimited.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP bounds one client address's sessions; 0 for
	// unlimited (behind a proxy every client has the proxy's address).
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// AllowedOrigins are the browser origins served besides the server's
	// own (scheme://host[:port]); "*" allows any origin, with a warning.
	// Empty: only pages from the server's own host. Requests without an
	// Origin header (non-browser clients) are always served.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// MaxPendingAcks bounds a socket's unanswered ack requests; at least
	// delivery.window.
	MaxPendingAcks int `yaml:"max_pending_acks"`
	// ShutdownSpread spreads closing the sessions over this long on
	// SIGTERM, so their reconnects do not hit the other nodes at once.
	ShutdownSpread time.Duration `yaml:"shutdown_spread"`
}

// AuthConfig configures JWT verification.
type AuthConfig struct {
	// JWTSecret is the HS256 secret; empty selects devJWTSecret with a warning.
	JWTSecret string `yaml:"jwt_secret"`
	// Issuer and Audience, when set, are required in every token (and set
	// by the token command).
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
}

// TenantsConfig tunes the dispatch namespaces.
type TenantsConfig struct {
	// EventsPerSecond and EventBurst limit each socket's events; excess
	// events are answered with rate_limited.
	EventsPerSecond float64 `yaml:"events_per_second"`
	EventBurst      int     `yaml:"event_burst"`
	// MaxSocketsPerTenant bounds one tenant's sockets per node; 0 for
	// unlimited.
	MaxSocketsPerTenant int `yaml:"max_sockets_per_tenant"`
	// MaxWatches bounds a customer's open order:watch subscriptions.
	MaxWatches int `yaml:"max_watches"`
	// MaxZones bounds a driver's open pickups:subscribe zones.
	MaxZones int `yaml:"max_zones"`
}

// DeliveryConfig tunes the durable per-recipient queues.
type DeliveryConfig struct {
	// Retention is how long an unacknowledged event stays queued (the
	// durable stream's max age).
	Retention time.Duration `yaml:"retention"`
	// Window is how many events a recipient may have sent and not yet
	// acknowledged.
	Window int `yaml:"window"`
	// QueueLimit bounds the events held in memory per recipient; the rest
	// wait in the stream.
	QueueLimit int `yaml:"queue_limit"`
	// FlushInterval is how often acknowledged positions are written to the
	// database.
	FlushInterval time.Duration `yaml:"flush_interval"`
}

// NATSConfig selects the broker.
type NATSConfig struct {
	// URL is empty for embedded NATS with JetStream, or one or more
	// comma-separated server URLs of an external NATS server or cluster.
	URL string `yaml:"url"`
	// Replicas is the durable stream's replication factor: 1 for the
	// embedded server, 3 on a production NATS cluster.
	Replicas int `yaml:"replicas"`
	// Stream names the durable JetStream stream and Prefix the first token
	// of every subject; deployments sharing one NATS need distinct values.
	Stream string `yaml:"stream"`
	Prefix string `yaml:"prefix"`
}

// StoreConfig selects the database.
type StoreConfig struct {
	// DatabaseURL is empty for SQLite in DataDir, or a postgres:// URL.
	DatabaseURL string `yaml:"database_url"`
}

// LogConfig configures the zap logger.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or console
}

// DefaultConfig returns the settings used when nothing overrides them.
// configs/dispatchd.yaml documents the same values.
func DefaultConfig() Config {
	return Config{
		DataDir: "./data",
		HTTP: HTTPConfig{
			Addr:              ":8080",
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   15 * time.Second,
			BodyLimit:         1 << 20,
		},
		Transport: TransportConfig{
			PingInterval:   25 * time.Second,
			PingTimeout:    20 * time.Second,
			MaxPayload:     1_000_000,
			ConnectTimeout: 45 * time.Second,
			UpgradeTimeout: 10 * time.Second,
			WriteTimeout:   10 * time.Second,
			SendQueue:      256,
			ShutdownSpread: 5 * time.Second,
			MaxPendingAcks: 256,
		},
		Delivery: DeliveryConfig{
			Retention:     24 * time.Hour,
			Window:        64,
			QueueLimit:    1024,
			FlushInterval: 50 * time.Millisecond,
		},
		NATS:    NATSConfig{Replicas: 1, Stream: "DISPATCH", Prefix: "dispatch"},
		Tenants: TenantsConfig{EventsPerSecond: 20, EventBurst: 40, MaxWatches: 200, MaxZones: 32},
		Log:     LogConfig{Level: "info", Format: "json"},
	}
}

// warnAuth falls back to devJWTSecret when no secret is set. It runs after
// the logger exists so that the warning cannot be missed.
func (c *Config) warnAuth(log *zap.Logger) {
	switch {
	case c.Auth.JWTSecret == "":
		c.Auth.JWTSecret = devJWTSecret
		log.Warn("jwt secret unset (DISPATCH_JWT_SECRET): using the public development secret, anyone can forge tokens; never do this in production")
	case len(c.Auth.JWTSecret) < minJWTSecretLen:
		log.Warn("jwt secret is shorter than 32 bytes: tokens are easier to forge", zap.Int("min_len", minJWTSecretLen))
	}
}

// anyOrigin in transport.allowed_origins lets pages on any site connect.
const anyOrigin = "*"

// warnOrigins makes an allow-any origin policy visible at start-up.
func (c Config) warnOrigins(log *zap.Logger) {
	if slices.Contains(c.Transport.AllowedOrigins, anyOrigin) {
		log.Warn(`transport.allowed_origins has "*": pages on any site may connect in their users' browsers (without cookies unless listed); list your front-end origins instead`)
	}
}

// shutdownBrokerTimeout bounds draining the NATS connection at exit.
const shutdownBrokerTimeout = 5 * time.Second
