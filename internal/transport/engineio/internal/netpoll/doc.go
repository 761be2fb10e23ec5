// Package netpoll is the machinery that lets an idle Engine.IO session cost
// no goroutine, no runtime timer and no read buffer: an epoll poller that
// starts a read only when a socket has bytes (Poller, Linux only), a gate
// per socket that keeps it to one reader and remembers bytes reported
// while that reader runs (Gate), a pool of
// reader goroutines that outlive one read (Readers), one timing wheel for
// every session's heartbeat (Wheel), a bounded pool of read buffers
// (Buffers) and a wait group that may grow while it is waited on (Group).
// It knows nothing of Engine.IO or WebSocket framing: the engineio package
// tells it which sockets to watch and what to run.
//
// # Why no goroutine per idle socket
//
// A blocked reader goroutine per WebSocket was most of an idle
// connection's memory. VmRSS per connection with cmd/dispatch-conns,
// 10,000 idle connections, and heap and stacks from runtime.MemStats on a
// probe server (docs/BENCHMARKS.md, "Memory per idle WebSocket
// connection"):
//
//   - read loop on the hijacked HTTP handler goroutine: 25,410 B; 10,004
//     goroutines, stacks 8.2 kB and heap 14.4 kB per connection;
//   - own reader goroutine, the handler returns: 11,091 B; on the scratch
//     copy with smaller buffers and no headers kept, 9,049 B, of which
//     stacks 4.15 kB (10,004 goroutines, 4 kB stacks) and live heap
//     3.2 kB: the stacks alone were most of the 6 kB target;
//   - epoll poller (this package's Poller, with the own frame reader that
//     can stop at a frame boundary): 6,311 B, then 5,403–5,684 B once
//     sessions kept strings instead of a request copy, with 11 goroutines
//     in all at 10,000 connections (Node's socket.io: about 17 kB).
//
// Later cuts (docs/BENCHMARKS.md, "Idle authenticated sockets") brought
// an idle authenticated driver socket from 4,964 B to 2,133 B of live heap
// and from 14.5 kB to 7.4–7.6 kB of RSS settled; dbcfece (gorilla's Conn
// dropped after the upgrade) was about 700 B of them.
//
// The other parts follow from the same goal. A reader goroutine that
// exits after one job paid for its stack's growth every time (a tenth of
// the CPU under load), so Readers keep one for a while. A sync.Pool of
// read buffers kept a whole connect burst's buffers until two collections
// (36 MB after 9,000 connects), so Buffers keeps a fixed number of spares.
// A runtime timer per session would be one more per-socket cost; the Wheel
// holds one map entry instead.
//
// The wheel is here and not in a package of its own because it serves the
// same purpose (an idle session holds nothing of its own that runs) and
// is used by the same one caller.
package netpoll
