package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config selects and tunes the database. Zero fields mean the defaults.
// The yaml names are those of the store section of dispatchd's config
// file; DataDir is set by the caller (dispatchd's top-level data_dir).
type Config struct {
	// DatabaseURL is empty for SQLite in DataDir, or a postgres:// or
	// postgresql:// URL for PostgreSQL.
	DatabaseURL string `yaml:"database_url"`
	// DataDir holds the SQLite file; default ./data.
	DataDir string `yaml:"-"`
	// Observer hears how long each database operation took; nil: none.
	Observer Observer `yaml:"-"`
}

// Observer hears the store's operations, for metrics. It is called on
// every operation: it must be cheap and must not block.
type Observer interface {
	// DB: the operation op (create_order, transition, …) took d.
	DB(op string, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) DB(string, time.Duration) {}

// DefaultConfig returns the settings of a local SQLite store.
func DefaultConfig() Config {
	return Config{DataDir: "./data"}
}

// Validate checks DatabaseURL's scheme and host, named by its yaml key,
// without echoing the URL, which may carry a password.
func (c Config) Validate() error {
	if c.DatabaseURL == "" {
		return nil
	}
	u, err := url.Parse(c.DatabaseURL)
	switch {
	case err != nil:
		return errors.New("database_url: not a valid URL")
	case !strings.EqualFold(u.Scheme, "postgres") && !strings.EqualFold(u.Scheme, "postgresql"):
		return fmt.Errorf("database_url: scheme %q is not one of postgres, postgresql", u.Scheme)
	case u.Host == "":
		return errors.New("database_url: missing host")
	}
	return nil
}
