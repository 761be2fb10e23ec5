package engineio

import "time"

// Config tunes the Engine.IO server. Zero fields take the defaults noted.
type Config struct {
	PingInterval   time.Duration // 25s: the server pings this long after the last pong
	PingTimeout    time.Duration // 20s: a ping unanswered this long closes the session
	MaxPayload     int           // 1,000,000 bytes: one polling body or one WebSocket frame
	UpgradeTimeout time.Duration // 10s: a probe that does not complete the upgrade is dropped
	WriteTimeout   time.Duration // 10s: one WebSocket write
	SendQueue      int           // 256 packets per session; a full queue evicts the session
	MaxConnections int           // 0: unlimited; more sessions get 503
	// MaxConnectionsPerIP bounds the sessions of one client address (0:
	// unlimited); more get 429. Behind a proxy every client has the
	// proxy's address: leave it 0 there, or set it on the proxy.
	MaxConnectionsPerIP int
	// AllowedOrigins are the browser origins (scheme://host[:port]) that
	// may use the server; requests without an Origin header (non-browser
	// clients) always may. Empty allows only the server's own origin (the
	// Origin's host equals the request's Host); "*" allows any, though
	// such origins get no Access-Control-Allow-Credentials unless listed
	// too. Others get 403.
	AllowedOrigins []string
	// ShutdownSpread spreads the closing of sessions at shutdown over this
	// long (0: all at once), so that clients reconnecting to other nodes
	// do not all arrive in the same instant. Batches are at least
	// shutdownBatch sessions, so a small node closes at once.
	ShutdownSpread time.Duration
}

// shutdownBatch is the fewest sessions closed in one step of a spread
// shutdown.
const shutdownBatch = 200

func (c Config) withDefaults() Config {
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = 1_000_000
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 256
	}
	return c
}

// wheelTick picks the heartbeat wheel's resolution: fine enough for short
// test intervals, coarse enough that a 25 s interval costs few wakeups.
func (c Config) wheelTick() time.Duration {
	t := min(c.PingInterval, c.PingTimeout) / 10
	return max(5*time.Millisecond, min(t, 250*time.Millisecond))
}
