// Package engineio implements the server side of the Engine.IO v4 protocol:
// the handshake, HTTP long-polling, WebSocket, the polling→WebSocket upgrade
// and the server-driven heartbeat. It carries opaque messages and knows
// nothing of Socket.IO; it imports nothing from internal/ but its own
// internal/netpoll (the epoll poller, reader pool, heartbeat wheel and
// read-buffer pool that let an idle session hold no goroutine; its doc
// says why, with the measurements).
//
// A session's life is a small state machine (state.go). Its locks, and
// the order they take with those of transport and the product, are in
// docs/LOCKING.md: in short, OnMessage and OnClose run under the session's
// message lock only, and Conn.mu is never held across I/O or a callback.
package engineio
