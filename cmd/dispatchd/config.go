package main

import (
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/console"
	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/transport"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// devJWTSecret signs tokens when no secret is configured, so that a bare
// `go run ./cmd/dispatchd` and `dispatchd token` work together out of the box.
// It is public knowledge: serve warns loudly whenever it is in use.
const devJWTSecret = "dispatchd-development-secret-do-not-use-in-production"

// minJWTSecretLen is the HS256 key size RFC 7518 asks for (256 bits).
const minJWTSecretLen = 32

// Config is the whole configuration of the binary, nested by concern. The
// sections that configure a package are that package's own Config, with
// its yaml names and its DefaultConfig, so a setting and its default are
// written once; the sections of cmd's own parts (http, log, debug) are
// here. Each package receives only its own section; nothing below cmd
// reads the environment or files.
type Config struct {
	// DataDir holds embedded state (SQLite database, embedded NATS
	// JetStream); newApp passes it to the store and the broker.
	DataDir   string           `yaml:"data_dir"`
	HTTP      HTTPConfig       `yaml:"http"`
	Transport transport.Config `yaml:"transport"`
	Auth      auth.Config      `yaml:"auth"`
	Tenants   dispatch.Config  `yaml:"tenants"`
	Delivery  DeliveryConfig   `yaml:"delivery"`
	Webhooks  webhooks.Config  `yaml:"webhooks"`
	NATS      broker.Config    `yaml:"nats"`
	Store     store.Config     `yaml:"store"`
	Log       LogConfig        `yaml:"log"`
	Debug     DebugConfig      `yaml:"debug"`
	Console   console.Config   `yaml:"console"`
	Admin     AdminConfig      `yaml:"-"`
}

// AdminConfig turns the admin API on. Its token comes from the
// environment only (DISPATCH_ADMIN_TOKEN): a secret has no place in a
// config file or on a command line.
type AdminConfig struct {
	Token string
}

// DeliveryConfig is the durable queues' settings plus how long an
// unacknowledged event is kept, which the broker (the stream's max age)
// and the housekeeping (ended subscriptions) both use.
type DeliveryConfig struct {
	Retention       time.Duration `yaml:"retention"`
	delivery.Config `yaml:",inline"`
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
	// PublicURL is the server's address as customers' browsers reach it
	// (http or https, maybe with a path prefix): orders' tracking links
	// are PublicURL/track/<token>. Empty: derived from Addr (PublicBase).
	PublicURL string `yaml:"public_url"`
}

// LogConfig configures the zap logger.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or console
}

// DefaultConfig returns the settings used when nothing overrides them:
// the packages' defaults and cmd's own. configs/dispatchd.yaml documents
// the same values (TestExampleConfig).
func DefaultConfig() Config {
	return Config{
		DataDir: store.DefaultConfig().DataDir,
		HTTP: HTTPConfig{
			Addr:              ":8080",
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   15 * time.Second,
			BodyLimit:         1 << 20,
		},
		Transport: transport.DefaultConfig(),
		Auth:      auth.Config{GlobalSecret: &globalSecretOn, ExpiringLead: dispatch.DefaultExpiringLead},
		Tenants:   dispatch.DefaultConfig(),
		Delivery:  DeliveryConfig{Retention: broker.DefaultConfig().Retention, Config: delivery.DefaultConfig()},
		Webhooks:  webhooks.DefaultConfig(),
		NATS:      broker.DefaultConfig(),
		Store:     store.DefaultConfig(),
		Log:       LogConfig{Level: "info", Format: "json"},
		Console:   console.DefaultConfig(),
	}
}

// globalSecretOn is the default of auth.global_secret.
var globalSecretOn = true

// warnAuth falls back to devJWTSecret when no secret is set and the
// global secret is on. It runs after the logger exists so that the
// warning cannot be missed.
func (c *Config) warnAuth(log *zap.Logger) {
	switch {
	case c.Auth.GlobalSecret != nil && !*c.Auth.GlobalSecret:
		log.Info("global jwt secret off (auth.global_secret): only registered tenants' own keys sign tokens")
	case len(c.Auth.Secret) == 0:
		c.Auth.Secret = auth.Secret(devJWTSecret)
		log.Warn("jwt secret unset (DISPATCH_JWT_SECRET): using the public development secret, anyone can forge tokens; never do this in production")
	case len(c.Auth.Secret) < minJWTSecretLen:
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
