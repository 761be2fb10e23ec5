package transport

import (
	"errors"
	"fmt"
	"time"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// Config tunes the Socket.IO server. Zero fields take DefaultConfig's
// values where zero means nothing else (see engineio.Config). The yaml
// names are those of the transport section of dispatchd's config file.
type Config struct {
	engineio.Config `yaml:",inline"`
	// ConnectTimeout closes a session that joins no namespace in time
	// (default 45s).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// MaxPendingAcks bounds a socket's events sent with an ack request and
	// not yet answered (default 256); EmitWithAck past it fails with
	// ErrTooManyPendingAcks. A client that never answers cannot make the
	// server keep callbacks without end.
	MaxPendingAcks int `yaml:"max_pending_acks"`
}

// DefaultConfig returns the recommended settings.
func DefaultConfig() Config {
	return Config{
		Config:         engineio.DefaultConfig(),
		ConnectTimeout: 45 * time.Second,
		MaxPendingAcks: 256,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxPendingAcks <= 0 {
		c.MaxPendingAcks = d.MaxPendingAcks
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	return c
}

// Validate reports every field out of range, each named by its yaml key.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	if c.ConnectTimeout <= 0 {
		errs = append(errs, fmt.Errorf("connect_timeout must be positive, got %s", c.ConnectTimeout))
	}
	if c.MaxPendingAcks <= 0 {
		errs = append(errs, fmt.Errorf("max_pending_acks must be positive, got %d", c.MaxPendingAcks))
	}
	return errors.Join(errs...)
}

// Disconnect reasons passed to OnDisconnect handlers, beyond the Engine.IO
// close reasons (engineio.Reason*).
const (
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
)
