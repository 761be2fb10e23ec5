// Package conformance serves the server side of the official Engine.IO v4 and
// Socket.IO v5 protocol test suites (socketio/socket.io, docs/*-test-suite).
//
// The suites expect, on one HTTP listener:
//
//   - /engine.io/: a bare Engine.IO server that echoes every message back,
//     text as text and binary as binary;
//   - /socket.io/: a Socket.IO server with the namespaces "/" and "/custom".
//     On connection each socket receives the event "auth" carrying its CONNECT
//     payload; the event "message" is answered with "message-back" and the same
//     arguments (binary attachments included); "message-with-ack" is
//     acknowledged with its own arguments. Any other namespace is refused.
//
// Both servers run with pingInterval 300ms, pingTimeout 200ms and maxPayload
// 1e6 bytes; the Socket.IO server has connectTimeout 1s. The suites hard-code
// these numbers, so they are not configurable here.
//
// The fixture is used by this package's Go ports of the suites and by
// `dispatchd conformance --addr`, which the JavaScript suites run against.
// That subcommand is linked only into a binary built with -tags conformance
// (go run -tags conformance ./cmd/dispatchd conformance), so the production
// binary does not carry this package; cmd/dispatchd's tests check it.
//
// The package imports only the public API of internal/transport; nothing in
// the product may import it.
package conformance
