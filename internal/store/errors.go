package store

import "errors"

// Sentinels of the store. Not-found and lifecycle failures are the
// *orders.Error values of package orders.
var (
	// ErrUnsupportedURL is returned by Open for a database URL that is
	// neither empty nor postgres:// or postgresql://.
	ErrUnsupportedURL = errors.New("unsupported database url")
	// ErrContention is returned by Transition when its compare-and-set
	// kept losing to concurrent writers; the caller may try again. It
	// also matches orders.ErrConflict.
	ErrContention = errors.New("order changed concurrently too often")
	// ErrOutOfRange is returned for a log position or sequence number
	// that does not fit the signed 64-bit column storing it.
	ErrOutOfRange = errors.New("position out of range")
)
