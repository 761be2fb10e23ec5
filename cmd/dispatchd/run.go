package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// runner carries what a command needs from its surroundings. Tests build one
// directly to observe the bound address; run builds the production one.
type runner struct {
	getenv func(string) string
	stdout io.Writer // logs and command output
	// ready, when set, is called with the listener's address once it accepts
	// connections, so tests can listen on port 0.
	ready func(addr net.Addr)
}

// run executes the subcommand named in args (args[0] is the program name).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	r := runner{getenv: getenv, stdout: stdout}
	return r.run(ctx, args)
}

// commands are the subcommands, in the order help lists them.
var commands = []struct{ name, summary string }{
	{"serve", "run the dispatch server (the default command)"},
	{"demo", "run the server with a simulated city of vendors, drivers and customers"},
	{"token", "sign a JWT for a tenant, role and user, with the configured secret"},
	{"tenant", "manage the tenant registry: create, list, key add, apikey create"},
	{"health", "probe the running server's /healthz (for container health checks)"},
	{"config", "check a config file, or list the environment variables read"},
	{"conformance", "run the contract's conformance suite against a server"},
	{"version", "print the version, VCS revision and Go version"},
	{"help", "show this list, or a command's flags: help COMMAND"},
}

func (r runner) run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		args = args[1:]
	}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && isHelpFlag(args[0]) {
		// A bare --help names the commands, then serve's flags.
		cmd = "help"
	}

	var err error
	switch cmd {
	case "serve":
		err = r.serve(ctx, args)
	case "conformance":
		err = r.conformance(ctx, args)
	case "token":
		err = r.token(ctx, args)
	case "version":
		err = r.version(args)
	case "health":
		err = r.health(ctx, args)
	case "config":
		err = r.config(args)
	case "tenant":
		err = r.tenant(ctx, args)
	case "demo":
		err = r.demo(ctx, args)
	case "help":
		err = r.help(ctx, args)
	default:
		return fmt.Errorf("unknown command %q (want %s; see dispatchd help)", cmd, commandNames())
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// help lists the commands with serve's flags, or shows one command's help.
func (r runner) help(ctx context.Context, args []string) error {
	if len(args) > 0 && !isHelpFlag(args[0]) {
		if args[0] == "help" {
			return r.help(ctx, nil)
		}
		return r.run(ctx, []string{"dispatchd", args[0], "-h"})
	}
	var b strings.Builder
	b.WriteString("usage: dispatchd [COMMAND] [FLAGS]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	b.WriteString("\n`dispatchd help COMMAND` shows a command's flags. serve's flags:\n")
	if _, err := io.WriteString(r.stdout, b.String()); err != nil {
		return err
	}
	return r.serve(ctx, []string{"-h"})
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "--h"
}

// commandNames lists the commands for an error message.
func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// newFlagSet returns a flag set whose usage and errors go to stdout and are
// returned, never os.Exit'ed.
func (r runner) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("dispatchd "+name, flag.ContinueOnError)
	fs.SetOutput(r.stdout)
	return fs
}

// listen binds addr. Binding before serving lets tests use port 0 and
// learn the real port from the ready hook.
func (r runner) listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// serveHTTP serves hs on ln until ctx ends or serving fails, then drains
// within timeout: the listener closes first, then stopSockets closes the
// socket sessions while hs waits for in-flight requests. The two overlap
// because a pending long-poll GET only returns once its session is closed,
// and http.Server.Shutdown does not wait for hijacked websockets at all.
func (r runner) serveHTTP(ctx context.Context, log *zap.Logger, hs *http.Server, ln net.Listener,
	timeout time.Duration, stopSockets func(context.Context) error,
) error {
	listenerClosed := make(chan struct{})
	hs.RegisterOnShutdown(func() { close(listenerClosed) })

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("listening", zap.String("addr", ln.Addr().String()))
	if r.ready != nil {
		r.ready(ln.Addr())
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", zap.Duration("timeout", timeout))
	case serveErr = <-served:
		log.Error("http server stopped", zap.Error(serveErr))
	}

	// The parent is already cancelled; the drain gets its own deadline.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Shutdown(sctx) }()
	select {
	case <-listenerClosed:
	case <-sctx.Done():
	}
	var errs []error
	if err := stopSockets(sctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown sockets: %w", err))
	}
	if err := <-httpDone; err != nil {
		errs = append(errs, fmt.Errorf("shutdown http: %w", err))
	}
	if serveErr == nil {
		serveErr = <-served
	}
	if !errors.Is(serveErr, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve http: %w", serveErr))
	}
	if len(errs) == 0 {
		log.Info("stopped")
	}
	return errors.Join(errs...)
}
