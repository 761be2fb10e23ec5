package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

// token prints a signed JWT for a tenant, role and user, with the secret,
// issuer and audience the server would use (same config file and env), or
// with one of the tenant's own HS256 keys (--kid, read from the database).
func (r runner) token(ctx context.Context, args []string) error {
	fs := r.newFlagSet("token")
	cf := newConfigFlags(fs)
	tenant := fs.String("tenant", "", "tenant (organisation) id")
	role := fs.String("role", "", "vendor, driver, customer or dispatcher")
	sub := fs.String("sub", "", "user id")
	ttl := fs.Duration("ttl", time.Hour, "validity")
	kid := fs.String("kid", "", "sign with this HS256 key of the tenant (from the registry) instead of the global secret")
	dev := fs.Bool("dev", false, "with no DISPATCH_JWT_SECRET, sign with the public development secret (tokens anyone can forge)")
	cfg, err := r.parseWithConfig(fs, cf, args)
	if err != nil {
		return err
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
	var tok string
	if *kid != "" {
		tok, err = signWithTenantKey(ctx, cfg, c, *kid, *ttl)
	} else {
		tok, err = signWithGlobal(cfg, c, *ttl, *dev)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(r.stdout, tok)
	return err
}

// signWithGlobal signs with DISPATCH_JWT_SECRET; the development secret
// only when asked for, since a server with a real secret (or a tenant
// with keys) would refuse its tokens with nothing but "invalid token".
func signWithGlobal(cfg Config, c auth.Claims, ttl time.Duration, dev bool) (string, error) {
	if len(cfg.Auth.Secret) == 0 {
		if !dev {
			return "", errors.New("token: DISPATCH_JWT_SECRET is unset: set it, sign with a tenant key (--kid), " +
				"or pass --dev to use the public development secret a bare local server falls back to")
		}
		cfg.Auth.Secret = auth.Secret(devJWTSecret)
	}
	return auth.Sign(cfg.Auth, c, ttl, time.Now())
}

// signWithTenantKey signs with the tenant's HS256 key kid, read from the
// database the server uses.
func signWithTenantKey(ctx context.Context, cfg Config, c auth.Claims, kid string, ttl time.Duration) (string, error) {
	sc := cfg.Store
	sc.DataDir = cfg.DataDir
	st, err := store.Open(ctx, sc, zap.NewNop())
	if err != nil {
		return "", fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	snap, err := st.LoadRegistry(ctx)
	if err != nil {
		return "", err
	}
	for _, k := range snap.Keys {
		if k.Tenant != c.Tenant || k.KID != kid {
			continue
		}
		if k.Alg != tenants.AlgHS256 {
			return "", fmt.Errorf("token: key %q of tenant %q is %s: only its owner's private key signs with it", kid, c.Tenant, k.Alg)
		}
		return auth.SignHS256(cfg.Auth, []byte(k.Material), kid, c, ttl, time.Now())
	}
	return "", fmt.Errorf("token: tenant %q has no key %q", c.Tenant, kid)
}
