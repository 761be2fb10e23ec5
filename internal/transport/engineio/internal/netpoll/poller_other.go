//go:build !linux

package netpoll

import (
	"errors"
	"syscall"

	"go.uber.org/zap"
)

// Watch keeps only the connection where there is no poller.
type Watch struct{ raw syscall.RawConn }

// Poller is Linux-only (epoll); elsewhere every socket keeps a reader
// goroutine. New returns nil and the methods are never called.
type Poller[S comparable] struct{}

// New returns no poller and no error: a build without epoll is not a
// failure worth a warning.
func New[S comparable](*zap.Logger, func(S) *Watch, func(S)) (*Poller[S], error) {
	return nil, nil
}

// Register always fails: the caller reads on its own goroutine.
func (p *Poller[S]) Register(S) bool { return false }

// ReadNow is never called: no socket is registered.
func (w *Watch) ReadNow([]byte) (int, error) { return 0, errors.ErrUnsupported }

// Unwatch does nothing.
func (p *Poller[S]) Unwatch(S) {}

// Stop does nothing.
func (p *Poller[S]) Stop() {}
