package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// token prints a signed JWT for a tenant, role and user, with the secret,
// issuer and audience the server would use (same config file and env).
func (r runner) token(args []string) error {
	fs := r.newFlagSet("token")
	cf := newConfigFlags(fs)
	tenant := fs.String("tenant", "", "tenant (organisation) id")
	role := fs.String("role", "", "vendor, driver or customer")
	sub := fs.String("sub", "", "user id")
	ttl := fs.Duration("ttl", time.Hour, "validity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cf.collect(fs)
	for _, k := range []string{"tenant", "role", "sub", "ttl"} {
		delete(cf.set, k)
	}
	cfg, err := loadConfig(cf, r.getenv)
	if err != nil {
		return err
	}
	if len(cfg.Auth.Secret) == 0 {
		// The same public secret serve falls back to (and warns about), so
		// a bare local setup works; stdout stays just the token.
		cfg.Auth.Secret = auth.Secret(devJWTSecret)
	}
	c := auth.Claims{Subject: *sub, Tenant: *tenant, Role: orders.Role(*role)}
	switch {
	case !orders.ValidName(c.Tenant) || !orders.ValidName(c.Subject):
		return errors.New("token: --tenant and --sub are required: 1-64 letters, digits, '_' or '-'")
	case !c.Role.Valid():
		return fmt.Errorf("token: --role must be one of %v, not %q", orders.Roles(), *role)
	case *ttl <= 0:
		return errors.New("token: --ttl must be positive")
	}
	tok, err := auth.Sign(cfg.Auth.Config, c, *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(r.stdout, tok)
	return err
}
