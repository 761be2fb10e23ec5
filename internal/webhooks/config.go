package webhooks

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes webhook delivery. Zero fields take DefaultConfig's values
// (AllowPrivate stays off). The yaml names are those of the webhooks
// section of dispatchd's config file.
type Config struct {
	// Timeout bounds one delivery attempt, connect to response (default
	// 10s). A receiver that takes longer counts as failed.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is how many messages of one endpoint may be in flight at
	// once (default 4), on as many lanes, one order always on the same
	// lane: in order per order, and one slow receiver holds at most its
	// own lanes.
	Concurrency int `yaml:"concurrency"`
	// RetryMin and RetryMax bound the exponential backoff between the
	// attempts of one message (default 1s and 10m), with jitter.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// DisableAfter disables an endpoint that has failed every attempt for
	// this long (default 12h): it then gets nothing more until it is
	// registered again, and its vendor hears webhook:disabled.
	DisableAfter time.Duration `yaml:"disable_after"`
	// AllowPrivate lets endpoints resolve to private, loopback,
	// link-local or unspecified addresses (default off: refused, checked
	// at dial time on the resolved address).
	AllowPrivate bool `yaml:"allow_private"`
	// Lease is how long a node owns an endpoint without renewing it
	// (default 15s): how soon another node resumes after a crash.
	Lease time.Duration `yaml:"lease"`
	// Poll is how often a node renews its leases and looks for new,
	// deleted or orphaned endpoints, and at most how long a live record
	// waits if the wake-up from the log was missed (default 1s).
	Poll time.Duration `yaml:"poll"`
	// Retention is how long a message is retried, from its first attempt:
	// the log's retention (delivery.retention), set by the caller.
	Retention time.Duration `yaml:"-"`
	// Observer hears attempts and outcomes (default: nobody).
	Observer Observer `yaml:"-"`
}

// DefaultConfig returns the recommended settings.
func DefaultConfig() Config {
	return Config{Timeout: 10 * time.Second, Concurrency: 4, RetryMin: time.Second, RetryMax: 10 * time.Minute,
		DisableAfter: 12 * time.Hour, Lease: 15 * time.Second, Poll: time.Second, Retention: 24 * time.Hour}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.Concurrency <= 0 {
		c.Concurrency = d.Concurrency
	}
	if c.RetryMin <= 0 {
		c.RetryMin = d.RetryMin
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(d.RetryMax, c.RetryMin)
	}
	if c.DisableAfter <= 0 {
		c.DisableAfter = d.DisableAfter
	}
	if c.Lease <= 0 {
		c.Lease = d.Lease
	}
	if c.Poll <= 0 {
		c.Poll = d.Poll
	}
	if c.Retention <= 0 {
		c.Retention = d.Retention
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	return c
}

// Validate reports every field out of range, each named by its yaml key.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"timeout", c.Timeout}, {"retry_min", c.RetryMin}, {"retry_max", c.RetryMax},
		{"disable_after", c.DisableAfter}, {"lease", c.Lease}, {"poll", c.Poll}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", f.name, f.v))
		}
	}
	if c.Concurrency <= 0 {
		errs = append(errs, fmt.Errorf("concurrency must be positive, got %d", c.Concurrency))
	}
	if c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("retry_max (%s) must be at least retry_min (%s)", c.RetryMax, c.RetryMin))
	}
	if c.Lease <= 2*c.Poll {
		errs = append(errs, fmt.Errorf("lease (%s) must be more than twice poll (%s)", c.Lease, c.Poll))
	}
	return errors.Join(errs...)
}

// Observer hears what the sink does; the metrics implement it.
type Observer interface {
	// WebhookAttempt: one HTTP attempt and its result (Result*).
	WebhookAttempt(result string, took time.Duration)
	// WebhookMessage: a message is done: delivered or expired.
	WebhookMessage(result string)
	// WebhookDisabled: an endpoint was disabled for failing.
	WebhookDisabled()
	// WebhookGap: an endpoint's cursor fell behind the stream's oldest
	// record; positions (of all tenants) it never read.
	WebhookGap(positions uint64)
}

// The results of an attempt and of a message.
const (
	ResultOK        = "ok"        // 2xx
	ResultStatus    = "status"    // any other HTTP status
	ResultNetwork   = "network"   // connect, TLS, timeout, reset
	ResultRefused   = "refused"   // the SSRF guard refused the destination
	ResultDelivered = "delivered" // message: a 2xx came
	ResultExpired   = "expired"   // message: retried past retention, given up
)

type nopObserver struct{}

func (nopObserver) WebhookAttempt(string, time.Duration) {}
func (nopObserver) WebhookMessage(string)                {}
func (nopObserver) WebhookDisabled()                     {}
func (nopObserver) WebhookGap(uint64)                    {}
