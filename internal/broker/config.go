package broker

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config selects and tunes the broker. Zero fields take DefaultConfig's
// values. The yaml names are those of the nats section of dispatchd's
// config file; the fields without one are set by the caller.
type Config struct {
	// URL is empty for the embedded server, or one or more comma-separated
	// nats:// URLs of an external server or cluster.
	URL string `yaml:"url"`
	// DataDir holds the embedded server's JetStream store (DataDir/nats).
	DataDir string `yaml:"-"`
	// ListenAddr makes the embedded server accept clients (e.g. other
	// tools) on host:port; empty keeps it in-process only.
	ListenAddr string `yaml:"-"`
	// Stream is the JetStream stream of durable events (default DISPATCH)
	// and Prefix the first token of its subjects (default "dispatch"); two
	// deployments sharing one NATS need distinct values.
	Stream string `yaml:"stream"`
	Prefix string `yaml:"prefix"`
	// Retention bounds how long an event is kept (default 24h). dispatchd
	// sets it from delivery.retention.
	Retention time.Duration `yaml:"-"`
	// Replicas is the stream's replication factor on an external cluster
	// (default 1; use 3 in production clusters).
	Replicas int `yaml:"replicas"`
	// DuplicateWindow is how long a Nats-Msg-Id is remembered for
	// deduplicating retried publishes (default 2m).
	DuplicateWindow time.Duration `yaml:"-"`
}

// DefaultConfig returns the settings of an embedded broker.
func DefaultConfig() Config {
	return Config{
		Stream:          "DISPATCH",
		Prefix:          "dispatch",
		Retention:       24 * time.Hour,
		Replicas:        1,
		DuplicateWindow: 2 * time.Minute,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Stream == "" {
		c.Stream = d.Stream
	}
	if c.Prefix == "" {
		c.Prefix = d.Prefix
	}
	if c.Retention <= 0 {
		c.Retention = d.Retention
	}
	if c.Replicas <= 0 {
		c.Replicas = d.Replicas
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = d.DuplicateWindow
	}
	return c
}

// Validate reports every problem of the fields with a yaml name, each
// named by its key. URLs are never echoed: they may carry a password.
func (c Config) Validate() error {
	var errs []error
	if !natsToken(c.Stream) {
		errs = append(errs, fmt.Errorf("stream %q must be letters, digits, '_' or '-'", c.Stream))
	}
	if !natsToken(c.Prefix) {
		errs = append(errs, fmt.Errorf("prefix %q must be letters, digits, '_' or '-'", c.Prefix))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas must be 1 to 5, got %d", c.Replicas))
	}
	if c.URL != "" {
		for _, u := range strings.Split(c.URL, ",") {
			if err := validateURL(strings.TrimSpace(u)); err != nil {
				errs = append(errs, fmt.Errorf("url: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// validateURL checks one server URL's scheme and host.
func validateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("scheme %q is not one of nats, tls, ws, wss", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("missing host")
	}
	return nil
}

// natsToken reports whether s is safe as a stream name and a subject
// token: no '.', wildcards, spaces or path characters.
func natsToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
