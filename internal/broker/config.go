package broker

import "time"

// Config selects and tunes the broker. Zero fields take defaults.
type Config struct {
	// URL is empty for the embedded server, or one or more comma-separated
	// nats:// URLs of an external server or cluster.
	URL string
	// DataDir holds the embedded server's JetStream store (DataDir/nats).
	DataDir string
	// ListenAddr makes the embedded server accept clients (e.g. other
	// tools) on host:port; empty keeps it in-process only.
	ListenAddr string
	// Stream is the JetStream stream of durable events (default DISPATCH)
	// and Prefix the first token of its subjects (default "dispatch"); two
	// deployments sharing one NATS need distinct values.
	Stream string
	Prefix string
	// Retention bounds how long an event is kept (default 24h).
	Retention time.Duration
	// Replicas is the stream's replication factor on an external cluster
	// (default 1; use 3 in production clusters).
	Replicas int
	// DuplicateWindow is how long a Nats-Msg-Id is remembered for
	// deduplicating retried publishes (default 2m).
	DuplicateWindow time.Duration
}

func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = "DISPATCH"
	}
	if c.Prefix == "" {
		c.Prefix = "dispatch"
	}
	if c.Retention <= 0 {
		c.Retention = 24 * time.Hour
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	return c
}
