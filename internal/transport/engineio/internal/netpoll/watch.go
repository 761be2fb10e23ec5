package netpoll

import "syscall"

// SetConn gives the socket's connection to its Watch; a socket without one
// (not TCP, or no poller) is never armed.
func (w *Watch) SetConn(raw syscall.RawConn) { w.raw = raw }

// Pollable reports whether the socket has a connection the poller can arm.
func (w *Watch) Pollable() bool { return w.raw != nil }
