package transport

import (
	"time"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// Config tunes the Socket.IO server. Zero fields take defaults.
type Config struct {
	engineio.Config
	// ConnectTimeout closes a session that joins no namespace in time
	// (default 45s).
	ConnectTimeout time.Duration
	// MaxPendingAcks bounds a socket's events sent with an ack request and
	// not yet answered (default 256); EmitWithAck past it fails with
	// ErrTooManyPendingAcks. A client that never answers cannot make the
	// server keep callbacks without end.
	MaxPendingAcks int
}

func (c Config) withDefaults() Config {
	if c.MaxPendingAcks <= 0 {
		c.MaxPendingAcks = 256
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 45 * time.Second
	}
	return c
}

// Disconnect reasons passed to OnDisconnect handlers, beyond the Engine.IO
// close reasons (engineio.Reason*).
const (
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
)
