package engineio

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config tunes the Engine.IO server. Zero fields take DefaultConfig's
// values, except those where zero means off or unlimited (MaxConnections,
// MaxConnectionsPerIP, AllowedOrigins, ShutdownSpread). The yaml names are
// those of the transport section of dispatchd's config file.
type Config struct {
	PingInterval   time.Duration `yaml:"ping_interval"`   // 25s: the server pings this long after the last pong
	PingTimeout    time.Duration `yaml:"ping_timeout"`    // 20s: a ping unanswered this long closes the session
	MaxPayload     int           `yaml:"max_payload"`     // 1,000,000 bytes: one polling body or one WebSocket frame
	UpgradeTimeout time.Duration `yaml:"upgrade_timeout"` // 10s: a probe that does not complete the upgrade is dropped
	WriteTimeout   time.Duration `yaml:"write_timeout"`   // 10s: one WebSocket write
	SendQueue      int           `yaml:"send_queue"`      // 256 packets per session; a full queue evicts the session
	MaxConnections int           `yaml:"max_connections"` // 0: unlimited; more sessions get 503
	// MaxConnectionsPerIP bounds the sessions of one client address (0:
	// unlimited); more get 429. Behind a proxy every client has the
	// proxy's address: leave it 0 there, or set it on the proxy.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// AllowedOrigins are the browser origins (scheme://host[:port]) that
	// may use the server; requests without an Origin header (non-browser
	// clients) always may. Empty allows only the server's own origin (the
	// Origin's host equals the request's Host); "*" allows any, though
	// such origins get no Access-Control-Allow-Credentials unless listed
	// too. Others get 403.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// ShutdownSpread spreads the closing of sessions at shutdown over this
	// long (0: all at once), so that clients reconnecting to other nodes
	// do not all arrive in the same instant. Batches are at least
	// shutdownBatch sessions, so a small node closes at once.
	ShutdownSpread time.Duration `yaml:"shutdown_spread"`
}

// DefaultConfig returns the recommended settings. A zero ShutdownSpread
// stays zero (close at once); the default spreads over 5s.
func DefaultConfig() Config {
	return Config{
		PingInterval:   25 * time.Second,
		PingTimeout:    20 * time.Second,
		MaxPayload:     1_000_000,
		UpgradeTimeout: 10 * time.Second,
		WriteTimeout:   10 * time.Second,
		SendQueue:      256,
		ShutdownSpread: 5 * time.Second,
	}
}

// shutdownBatch is the fewest sessions closed in one step of a spread
// shutdown.
const shutdownBatch = 200

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.PingInterval <= 0 {
		c.PingInterval = d.PingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = d.PingTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = d.MaxPayload
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = d.UpgradeTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.SendQueue <= 0 {
		c.SendQueue = d.SendQueue
	}
	return c
}

// Validate reports every field out of range, each named by its yaml key.
// Origins are checked by their syntax: scheme://host[:port] or "*".
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ping_interval", c.PingInterval}, {"ping_timeout", c.PingTimeout},
		{"upgrade_timeout", c.UpgradeTimeout}, {"write_timeout", c.WriteTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", d.name, d.v))
		}
	}
	if c.MaxPayload <= 0 {
		errs = append(errs, fmt.Errorf("max_payload must be positive, got %d", c.MaxPayload))
	}
	if c.SendQueue <= 0 {
		errs = append(errs, fmt.Errorf("send_queue must be positive, got %d", c.SendQueue))
	}
	if c.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("max_connections must be 0 (unlimited) or positive, got %d", c.MaxConnections))
	}
	if c.MaxConnectionsPerIP < 0 {
		errs = append(errs, fmt.Errorf("max_connections_per_ip must be 0 (unlimited) or positive, got %d", c.MaxConnectionsPerIP))
	}
	if c.ShutdownSpread < 0 {
		errs = append(errs, fmt.Errorf("shutdown_spread must not be negative, got %s", c.ShutdownSpread))
	}
	for _, o := range c.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("allowed_origins %q: %w", o, err))
		}
	}
	return errors.Join(errs...)
}

// validateOrigin accepts what browsers send in the Origin header:
// scheme://host[:port] with nothing after it, or "*" for any origin.
func validateOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return err
	case u.Scheme == "" || u.Host == "":
		return errors.New(`want scheme://host[:port], or "*" for any origin`)
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("an origin has no path, query, fragment or user info")
	}
	return nil
}

// wheelTick picks the heartbeat wheel's resolution: fine enough for short
// test intervals, coarse enough that a 25 s interval costs few wakeups.
func (c Config) wheelTick() time.Duration {
	t := min(c.PingInterval, c.PingTimeout) / 10
	return max(5*time.Millisecond, min(t, 250*time.Millisecond))
}
