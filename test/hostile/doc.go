// Package hostile runs the real dispatchd binary through a sweep of
// malformed and hostile client input (random bytes, truncated and
// unknown packets, deep JSON, binary placeholder abuse, prototype-style
// keys, forged tokens, wrong argument types, oversized frames, garbage
// polling bodies) while well-behaved control clients keep working, and
// checks that the server stays up, keeps serving them in order, logs
// client misbehaviour below error level and gives back the memory and
// goroutines the attack took. Every test is bounded in time and uses
// loopback only.
//
// It imports internal/testproc and internal/sioclient to run and drive
// the server, and internal/auth and internal/orders only to sign tokens.
package hostile
