package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/demo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// demo serves with a simulated city playing against it: vendors posting
// orders, drivers on duty driving them, customers watching. Without a data
// dir or a secret of its own it uses a fresh temporary data dir and a
// random secret, so it never touches ./data; it prints a dispatcher's
// token for the console.
func (r runner) demo(ctx context.Context, args []string) error {
	fs := r.newFlagSet("demo")
	cf := newConfigFlags(fs)
	dur := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	speed := fs.Float64("speed", 1, "how much faster than real time the city moves")
	drivers := fs.Int("drivers", demo.DefaultConfig().Drivers, "drivers on duty")
	cfg, err := r.parseWithConfig(fs, cf, args)
	if err != nil {
		return err
	}
	env := map[string]string{}
	if cfg.DataDir == DefaultConfig().DataDir && r.getenv("DISPATCH_DATA_DIR") == "" {
		dir, err := os.MkdirTemp("", "dispatchd-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		env["DISPATCH_DATA_DIR"] = dir
	}
	if len(cfg.Auth.Secret) == 0 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		env["DISPATCH_JWT_SECRET"] = hex.EncodeToString(b)
		cfg.Auth.Secret = auth.Secret(env["DISPATCH_JWT_SECRET"])
	}
	dr := runner{stdout: r.stdout, getenv: func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return r.getenv(k)
	}}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	ready := make(chan net.Addr, 1)
	dr.ready = func(a net.Addr) { ready <- a }
	served := make(chan error, 1)
	go func() { served <- dr.serve(ctx, serveArgs(cf)) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-served:
		return err
	}
	dc := demo.DefaultConfig()
	dc.URL, dc.Auth, dc.Speed, dc.Drivers = "http://"+dialable(addr), cfg.Auth, *speed, *drivers
	if err := r.announceDemo(dc); err != nil {
		return err
	}
	// The city stops when the server does, whyever it does: it would
	// otherwise retry against nothing, and the command never return.
	city, stopCity := context.WithCancel(ctx)
	defer stopCity()
	var serveErr error
	serveDone := make(chan struct{})
	go func() {
		serveErr = <-served
		stopCity()
		close(serveDone)
	}()
	var stats demo.Stats
	played := demo.Run(city, dc, &stats, zap.NewNop())
	<-serveDone
	_, _ = fmt.Fprintf(r.stdout, "dispatchd demo: %d orders created, %d claimed, %d delivered\n",
		stats.Created.Load(), stats.Claimed.Load(), stats.Delivered.Load())
	return errors.Join(played, serveErr)
}

// serveArgs passes the server flags the demo was given on to serve.
func serveArgs(cf *configFlags) []string {
	var out []string
	for k, v := range cf.set {
		if isConfigFlag(k) {
			out = append(out, "--"+k+"="+v)
		}
	}
	return out
}

// dialable turns a listener's address into one a client on this machine
// dials (a wildcard host becomes loopback).
func dialable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// announceDemo tells the newcomer where to look: the board's link, with
// a dispatcher's token of the demo tenant in its fragment.
func (r runner) announceDemo(dc demo.Config) error {
	tok, err := auth.Sign(dc.Auth, auth.Claims{Subject: "demo-dispatcher", Tenant: dc.Tenant, Role: orders.RoleDispatcher},
		24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	// The board takes the token from the link's fragment (never sent to
	// the server, never logged by it), keeps it in sessionStorage and
	// strips it from the address bar at once.
	_, err = fmt.Fprintf(r.stdout, `dispatchd demo: a simulated city (%d drivers, %d vendors, %d customers) on %s
  open the dispatch board (signed in as demo-dispatcher for 24 h):
  %s/console/#token=%s
`, dc.Drivers, dc.Vendors, dc.Customers, dc.URL, dc.URL, tok)
	return err
}
