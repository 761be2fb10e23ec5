package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// Validate reports every problem at once, so one edit fixes a bad config.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			bad("%s must be positive, got %s", name, d)
		}
	}

	if c.DataDir == "" {
		bad("data_dir must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr %q: %w", c.HTTP.Addr, err)
	}
	positive("http.read_header_timeout", c.HTTP.ReadHeaderTimeout)
	positive("http.read_timeout", c.HTTP.ReadTimeout)
	positive("http.idle_timeout", c.HTTP.IdleTimeout)
	if c.HTTP.ReadTimeout > 0 && c.HTTP.ReadTimeout < c.HTTP.ReadHeaderTimeout {
		// The read timeout runs from the first byte of the headers.
		bad("http.read_timeout (%s) must be at least http.read_header_timeout (%s)", c.HTTP.ReadTimeout, c.HTTP.ReadHeaderTimeout)
	}
	positive("http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	if c.HTTP.BodyLimit <= 0 {
		bad("http.body_limit must be positive, got %d", c.HTTP.BodyLimit)
	}

	t := c.Transport
	positive("transport.ping_interval", t.PingInterval)
	positive("transport.ping_timeout", t.PingTimeout)
	positive("transport.connect_timeout", t.ConnectTimeout)
	positive("transport.upgrade_timeout", t.UpgradeTimeout)
	positive("transport.write_timeout", t.WriteTimeout)
	if t.MaxPayload <= 0 {
		bad("transport.max_payload must be positive, got %d", t.MaxPayload)
	}
	if t.SendQueue <= 0 {
		bad("transport.send_queue must be positive, got %d", t.SendQueue)
	}
	if t.MaxConnections < 0 {
		bad("transport.max_connections must be 0 (unlimited) or positive, got %d", t.MaxConnections)
	}
	if t.MaxConnectionsPerIP < 0 {
		bad("transport.max_connections_per_ip must be 0 (unlimited) or positive, got %d", t.MaxConnectionsPerIP)
	}
	if t.ShutdownSpread < 0 {
		bad("transport.shutdown_spread must not be negative, got %s", t.ShutdownSpread)
	}
	for _, o := range t.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			bad("transport.allowed_origins %q: %w", o, err)
		}
	}

	if !natsToken(c.NATS.Stream) {
		bad("nats.stream %q must be letters, digits, '_' or '-'", c.NATS.Stream)
	}
	if !natsToken(c.NATS.Prefix) {
		bad("nats.prefix %q must be letters, digits, '_' or '-'", c.NATS.Prefix)
	}
	if a := c.Debug.PprofAddr; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("debug.pprof_addr %q: %w", a, err)
		}
	}
	dl := c.Delivery
	positive("delivery.retention", dl.Retention)
	positive("delivery.flush_interval", dl.FlushInterval)
	if dl.Window <= 0 {
		bad("delivery.window must be positive, got %d", dl.Window)
	}
	if t.MaxPendingAcks < dl.Window {
		bad("transport.max_pending_acks must be at least delivery.window (%d), got %d", dl.Window, t.MaxPendingAcks)
	}
	if dl.QueueLimit < dl.Window {
		bad("delivery.queue_limit must be at least delivery.window (%d), got %d", dl.Window, dl.QueueLimit)
	}

	if c.Tenants.MaxSocketsPerTenant < 0 {
		bad("tenants.max_sockets_per_tenant must be 0 (unlimited) or positive, got %d", c.Tenants.MaxSocketsPerTenant)
	}
	if c.Tenants.MaxWatches <= 0 {
		bad("tenants.max_watches must be positive, got %d", c.Tenants.MaxWatches)
	}
	if c.Tenants.MaxZones <= 0 {
		bad("tenants.max_zones must be positive, got %d", c.Tenants.MaxZones)
	}
	if c.Tenants.EventsPerSecond <= 0 {
		bad("tenants.events_per_second must be positive, got %g", c.Tenants.EventsPerSecond)
	}
	if c.Tenants.EventBurst <= 0 {
		bad("tenants.event_burst must be positive, got %d", c.Tenants.EventBurst)
	}

	if c.NATS.Replicas < 1 || c.NATS.Replicas > 5 {
		bad("nats.replicas must be 1 to 5, got %d", c.NATS.Replicas)
	}
	if c.NATS.URL != "" {
		for _, u := range strings.Split(c.NATS.URL, ",") {
			if err := validateURL(strings.TrimSpace(u), "nats", "tls", "ws", "wss"); err != nil {
				bad("nats.url: %w", err)
			}
		}
	}
	if c.Store.DatabaseURL != "" {
		if err := validateURL(c.Store.DatabaseURL, "postgres", "postgresql"); err != nil {
			bad("store.database_url: %w", err)
		}
	}

	if _, err := zapcore.ParseLevel(c.Log.Level); err != nil {
		bad("log.level: %w", err)
	}
	if c.Log.Format != "json" && c.Log.Format != "console" {
		bad("log.format must be json or console, got %q", c.Log.Format)
	}
	return errors.Join(errs...)
}

// validateOrigin accepts what browsers send in the Origin header:
// scheme://host[:port] with nothing after it, or "*" for any origin.
func validateOrigin(o string) error {
	if o == anyOrigin {
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

// validateURL checks the scheme and host without echoing the URL, which may
// carry a password.
func validateURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	ok := false
	for _, s := range schemes {
		ok = ok || strings.EqualFold(u.Scheme, s)
	}
	if !ok {
		return fmt.Errorf("scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
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
