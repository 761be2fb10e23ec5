//go:build conformance

package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/conformance"
)

// Fixed limits of the conformance fixture; it is a test target, not a service.
const (
	conformanceReadHeaderTimeout = 10 * time.Second
	conformanceShutdownTimeout   = 5 * time.Second
)

// conformance serves the protocol test-suite fixture until ctx ends. It reads
// no config file or environment: the suites hard-code their settings. It is
// built only with -tags conformance (conformance_off.go otherwise), so the
// production binary does not carry a test target.
func (r runner) conformance(ctx context.Context, args []string) error {
	fs := r.newFlagSet("conformance")
	addr := fs.String("addr", "127.0.0.1:3000", "listen address")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	format := fs.String("log-format", "json", "json or console")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("conformance: unexpected arguments %q", fs.Args())
	}
	log, err := newLogger(LogConfig{Level: *level, Format: *format}, r.stdout)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }() // stdout may not support fsync

	ln, err := r.listen(ctx, *addr)
	if err != nil {
		return err
	}
	fx := conformance.New(log)
	hs := &http.Server{
		Handler:           fx,
		ReadHeaderTimeout: conformanceReadHeaderTimeout,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	return r.serveHTTP(ctx, log, hs, ln, conformanceShutdownTimeout, fx.Shutdown)
}
