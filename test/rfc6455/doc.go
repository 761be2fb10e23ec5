// Package rfc6455 is an RFC 6455 server suite for dispatchd's WebSocket
// endpoints: the cases of the Autobahn|Testsuite fuzzingclient
// (crossbario/autobahn-testsuite) in categories 1–7 and 9, written anew in
// Go from their published descriptions, run over raw TCP with hand-made
// masked frames against the server `dispatchd conformance` serves
// (internal/conformance): /engine.io/, which echoes every message, and
// /socket.io/, whose "message" event is answered with "message-back".
//
// Engine.IO carries each message as a packet, so a case's text T travels
// as "4"+T on /engine.io/ and as 42["message","T"] on /socket.io/ (binary
// as an attachment there); the suite compares what comes back after
// taking that wrapping off. Fragmentation and chopping apply to the
// wrapped message, so every case still exercises the frame it describes.
//
// `go test ./test/rfc6455 -update` rewrites the table in
// docs/CONFORMANCE.md from the verdicts of the run.
package rfc6455
