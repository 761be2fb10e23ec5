// Command dispatch-bench is a load generator for servers speaking the
// dispatch wire contract (Socket.IO v4 over WebSocket): dispatchd, or any
// peer implementation. It plays vendors, drivers and customers in an open
// loop, checks the delivery guarantees as it goes (seq, one claim winner,
// tenant isolation) and writes a JSON result; it also ramps the rate,
// holds many idle connections, plots results, and serves a minimal
// in-memory fake of the server (mode fake) to find its own ceiling.
//
// See README.md beside this file for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "dispatch-bench:", err)
		os.Exit(1)
	}
}

// run parses the mode and flags and runs it. A run that does not pass
// still returns nil: the result says so. Errors are setup failures.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	mode, rest := "dispatch", args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		mode, rest = rest[0], rest[1:]
	}
	switch mode {
	case "plot":
		return runPlot(rest, stdout)
	case "fake":
		return runFake(ctx, rest, stdout)
	}
	cfg, err := parseFlags(mode, rest, stdout)
	if err != nil {
		return err
	}
	var r *Result
	switch mode {
	case "dispatch":
		r, err = runDispatch(ctx, cfg, stdout)
	case "ramp":
		r, err = runRamp(ctx, cfg, stdout)
	case "conns":
		r, err = runConns(ctx, cfg, stdout)
	default:
		return fmt.Errorf("unknown mode %q (want dispatch, ramp, conns, plot or fake)", mode)
	}
	if err != nil {
		return err
	}
	if r.Saturated {
		fmt.Fprintln(stdout, "!!! bench saturated: the result measures the bench, not the server !!!")
	}
	fmt.Fprintln(stdout, r.summaryLine())
	for _, f := range r.Failures {
		fmt.Fprintln(stdout, "  fail:", f)
	}
	return r.write(cfg.Out, stdout)
}

// tokenTTL outlives any run.
const tokenTTL = 24 * time.Hour

// signToken makes the HS256 JWT the contract asks for.
func signToken(secret, tenant, role, sub string) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{"sub": sub, "tenant": tenant, "role": role, "iat": now.Unix(), "exp": now.Add(tokenTTL).Unix()}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}
