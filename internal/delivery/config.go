package delivery

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes durable delivery. Zero fields take DefaultConfig's values.
// The yaml names are those of the delivery section of dispatchd's config
// file; Observer and Feeds are wiring, set by the caller.
type Config struct {
	// Window is how many events may be sent to a recipient and not yet
	// acknowledged (default 64): the flow control that keeps a slow or
	// silent client from filling its socket's queue.
	Window int `yaml:"window"`
	// QueueLimit bounds the events held in memory per recipient (default
	// 1024). Past it the recipient falls behind: newer events stay in the
	// log and are read from there once it has acknowledged enough.
	QueueLimit int `yaml:"queue_limit"`
	// FlushInterval is how often acknowledged cursors are written to the
	// store (default 50ms): acks are coalesced, and an ack newer than the
	// last flush may be redelivered after a crash.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// StallAfter is how long a recipient's window may stay full, with no
	// ack moving it, before the recipient counts as stalled: logged once
	// per episode and counted (default 30s). A client that acks nothing
	// it is sent is the usual cause.
	StallAfter time.Duration `yaml:"stall_after"`
	// ProbeAfter: a window full this long with no ack moving it gets one
	// more event past it, and one more each ProbeAfter after, up to a
	// second window (default 250ms). A stock client acks only the events
	// it handles, and acks are cumulative: a window full of events it
	// ignores would otherwise never see the later event whose ack
	// receipts them all.
	ProbeAfter time.Duration `yaml:"probe_after"`
	// Observer hears deliveries and acks (default: nobody).
	Observer Observer `yaml:"-"`
	// Feeds names each role's own feed (FeedVendor, FeedCustomer,
	// FeedDriver), keyed by the user's id: the caller's audience table.
	// A role without one has no durable queue.
	Feeds map[string]string `yaml:"-"`
}

// DefaultConfig returns the recommended settings, with no observer and
// no feeds.
func DefaultConfig() Config {
	return Config{Window: 64, QueueLimit: 1024, FlushInterval: 50 * time.Millisecond, StallAfter: 30 * time.Second,
		ProbeAfter: 250 * time.Millisecond}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Window <= 0 {
		c.Window = d.Window
	}
	if c.QueueLimit <= 0 {
		c.QueueLimit = d.QueueLimit
	}
	if c.QueueLimit < c.Window {
		c.QueueLimit = c.Window
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = d.FlushInterval
	}
	if c.StallAfter <= 0 {
		c.StallAfter = d.StallAfter
	}
	if c.ProbeAfter <= 0 {
		c.ProbeAfter = d.ProbeAfter
	}
	return c
}

// Validate reports every field out of range, each named by its yaml key.
func (c Config) Validate() error {
	var errs []error
	if c.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("flush_interval must be positive, got %s", c.FlushInterval))
	}
	if c.StallAfter <= 0 {
		errs = append(errs, fmt.Errorf("stall_after must be positive, got %s", c.StallAfter))
	}
	if c.ProbeAfter <= 0 {
		errs = append(errs, fmt.Errorf("probe_after must be positive, got %s", c.ProbeAfter))
	}
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("window must be positive, got %d", c.Window))
	}
	if c.QueueLimit < c.Window {
		errs = append(errs, fmt.Errorf("queue_limit must be at least window (%d), got %d", c.Window, c.QueueLimit))
	}
	return errors.Join(errs...)
}
