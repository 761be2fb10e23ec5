package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthTimeout bounds the whole health request by default: a container
// probe must answer well within its interval.
const healthTimeout = 3 * time.Second

// health GETs a health endpoint and succeeds only on 200, so that a minimal
// image without a shell or curl can still run a HEALTHCHECK. The default URL
// is /healthz on the port the server listens on, from the same layers as
// serve (--addr, DISPATCH_ADDR, the config file, ":8080") on loopback.
func (r runner) health(ctx context.Context, args []string) error {
	fs := r.newFlagSet("health")
	cf := newConfigFlags(fs)
	url := fs.String("url", "", "URL to GET; healthy only when it answers 200 (default: /healthz at the configured address)")
	timeout := fs.Duration("timeout", healthTimeout, "time allowed for the whole request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("health: unexpected arguments %q", fs.Args())
	}
	if *timeout <= 0 {
		return errors.New("health: --timeout must be positive")
	}
	if *url == "" {
		cf.collect(fs)
		cfg, err := layerConfig(cf, r.getenv)
		if err != nil {
			return fmt.Errorf("health: %w", err)
		}
		*url = healthURL(cfg.HTTP.Addr)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	// No proxy, no kept connection, no redirects: the probe asks this
	// process directly and a 3xx is not healthy.
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s", *url, resp.Status)
	}
	_, err = fmt.Fprintln(r.stdout, "ok")
	return err
}

// healthURL turns a listen address into the URL of its /healthz on the
// same machine: an empty or wildcard host becomes 127.0.0.1.
func healthURL(addr string) string {
	if addr == "" {
		addr = DefaultConfig().HTTP.Addr
	}
	return localURL(addr) + "/healthz"
}
