// Package suites runs the official Engine.IO v4 and Socket.IO v5 protocol
// test suites, vendored unmodified from socketio/socket.io (see README.md),
// against the real dispatchd binary's conformance fixture
// (`dispatchd conformance`). Each suite must pass whole: every case, none
// failing, none skipped.
//
// Setup: `npm ci` in each suite folder (scripts/test does it). Without
// DISPATCH_TEST_INTEROP the test skips when a suite's node_modules is
// missing; with DISPATCH_TEST_INTEROP=1 a missing node or node_modules is a
// failure.
package suites
