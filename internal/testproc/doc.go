// Package testproc runs the real dispatchd binary as a child process for
// tests: it builds the binary (with -race when the tests have it), starts
// `dispatchd serve` on a free loopback port, waits for /healthz and
// /readyz, streams the output to t.Log while watching for error-level
// lines, panics and race reports, and stops (SIGTERM), kills (SIGKILL) or
// restarts the process with the same address and environment. It also
// creates throwaway PostgreSQL schemas and mints tokens.
//
// It is used only by tests (test/interop, test/faults, test/strategies);
// nothing in the binary imports it. It may import internal/auth and
// internal/orders to sign tokens and internal/sioclient to count what
// clients received, and nothing else of internal/.
package testproc
