package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"go.uber.org/zap/zapcore"
)

// Validate reports every problem at once, so one edit fixes a bad config.
// Each section validates itself and names its keys; Validate prefixes
// them with the section and adds the checks across sections.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir must not be empty"))
	}
	for _, s := range []struct {
		name string
		err  error
	}{
		{"http", c.HTTP.Validate()},
		{"transport", c.Transport.Validate()},
		{"tenants", c.Tenants.Validate()},
		{"delivery", c.Delivery.Validate()},
		{"webhooks", c.Webhooks.Validate()},
		{"nats", c.NATS.Validate()},
		{"store", c.Store.Validate()},
		{"log", c.Log.Validate()},
		{"debug", c.Debug.Validate()},
		{"console", c.Console.Validate()},
	} {
		for _, e := range splitJoined(s.err) {
			errs = append(errs, fmt.Errorf("%s.%w", s.name, e))
		}
	}
	if c.Auth.ExpiringLead <= 0 {
		errs = append(errs, fmt.Errorf("auth.expiring_lead must be positive, got %s", c.Auth.ExpiringLead))
	}
	if t, w := c.Transport.MaxPendingAcks, c.Delivery.Window; t < 2*w {
		// Durable delivery keeps up to two windows of acks pending per
		// socket: the window and what probes send past it.
		errs = append(errs, fmt.Errorf("transport.max_pending_acks must be at least two delivery windows (%d), got %d", 2*w, t))
	}
	if tok := c.Admin.Token; tok != "" && len(tok) < minJWTSecretLen {
		errs = append(errs, fmt.Errorf("DISPATCH_ADMIN_TOKEN must be at least %d bytes (it guards every tenant's keys)", minJWTSecretLen))
	}
	return errors.Join(errs...)
}

// Validate checks the listener's settings, each named by its key.
func (h HTTPConfig) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(h.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", h.Addr, err))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read_header_timeout", h.ReadHeaderTimeout}, {"read_timeout", h.ReadTimeout},
		{"idle_timeout", h.IdleTimeout}, {"shutdown_timeout", h.ShutdownTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", d.name, d.v))
		}
	}
	if h.ReadTimeout > 0 && h.ReadTimeout < h.ReadHeaderTimeout {
		// The read timeout runs from the first byte of the headers.
		errs = append(errs, fmt.Errorf("read_timeout (%s) must be at least http.read_header_timeout (%s)", h.ReadTimeout, h.ReadHeaderTimeout))
	}
	if h.BodyLimit <= 0 {
		errs = append(errs, fmt.Errorf("body_limit must be positive, got %d", h.BodyLimit))
	}
	if h.PublicURL != "" {
		if err := checkPublicURL(h.PublicURL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkPublicURL accepts an absolute http(s) URL with a host and neither
// query, fragment nor credentials: links are made by appending a path.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("public_url %q must be an http or https URL with a host and no query, fragment or credentials", s)
	}
	return nil
}

// Validate checks the retention and the queues' settings.
func (d DeliveryConfig) Validate() error {
	var errs []error
	if d.Retention <= 0 {
		errs = append(errs, fmt.Errorf("retention must be positive, got %s", d.Retention))
	}
	return errors.Join(append(errs, d.Config.Validate())...)
}

// Validate checks the level and the format.
func (l LogConfig) Validate() error {
	var errs []error
	if _, err := zapcore.ParseLevel(l.Level); err != nil {
		errs = append(errs, fmt.Errorf("level: %w", err))
	}
	if l.Format != "json" && l.Format != "console" {
		errs = append(errs, fmt.Errorf("format must be json or console, got %q", l.Format))
	}
	return errors.Join(errs...)
}

// Validate checks the profiler's address when one is set.
func (d DebugConfig) Validate() error {
	if d.PprofAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(d.PprofAddr); err != nil {
		return fmt.Errorf("pprof_addr %q: %w", d.PprofAddr, err)
	}
	return nil
}

// splitJoined undoes errors.Join, at every level, so that a section's
// nested sub-sections come out one problem per error. The validators wrap
// at most one error each (one %w), so only joins are split.
func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, splitJoined(e)...)
	}
	return out
}
