package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

// tenant runs the registry subcommands on the database the server uses
// (same config file, environment and flags), for bootstrap without the
// admin API: create, list, key add, apikey create. Each prints JSON.
func (r runner) tenant(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("tenant: want a subcommand: create, list, key add or apikey create")
	}
	sub, args := args[0], args[1:]
	if (sub == "key" || sub == "apikey") && len(args) > 0 {
		sub, args = sub+" "+args[0], args[1:]
	}
	switch sub {
	case "create":
		return r.tenantCreate(ctx, args)
	case "list":
		return r.withRegistry(ctx, "tenant list", args, nil, func(ctx context.Context, st *store.Store) (any, error) {
			list, err := st.Tenants(ctx)
			return map[string]any{"tenants": list}, err
		})
	case "key add":
		return r.tenantKeyAdd(ctx, args)
	case "apikey create":
		return r.tenantAPIKeyCreate(ctx, args)
	case "-h", "-help", "--help":
		_, err := fmt.Fprintln(r.stdout, "usage: dispatchd tenant create|list|key add|apikey create [FLAGS] (each takes -h)")
		return err
	}
	return fmt.Errorf("tenant: unknown subcommand %q (want create, list, key add or apikey create)", sub)
}

// withRegistry parses args (flags registers the command's own), opens
// the store, runs fn and prints its result as JSON.
func (r runner) withRegistry(ctx context.Context, name string, args []string, flags func(*flag.FlagSet),
	fn func(ctx context.Context, st *store.Store) (any, error)) error {
	fs := r.newFlagSet(name)
	cf := newConfigFlags(fs)
	if flags != nil {
		flags(fs)
	}
	cfg, err := r.parseWithConfig(fs, cf, args)
	if err != nil {
		return err
	}
	sc := cfg.Store
	sc.DataDir = cfg.DataDir
	st, err := store.Open(ctx, sc, zap.NewNop())
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	out, err := fn(ctx, st)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	enc := json.NewEncoder(r.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// parseWithConfig parses a command's args and loads the server's
// configuration beneath the server flags among them (the command's own
// flags are not settings).
func (r runner) parseWithConfig(fs *flag.FlagSet, cf *configFlags, args []string) (Config, error) {
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	cf.collect(fs)
	for k := range cf.set {
		if !isConfigFlag(k) {
			delete(cf.set, k)
		}
	}
	return loadConfig(cf, r.getenv)
}

// isConfigFlag reports whether a flag is one of the server's settings
// (data dir, database URL, ...) rather than the command's own.
func isConfigFlag(name string) bool {
	for _, s := range settings() {
		if s.flag == name {
			return true
		}
	}
	return false
}

func (r runner) tenantCreate(ctx context.Context, args []string) error {
	var id, name, strategy string
	return r.withRegistry(ctx, "tenant create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "tenant id (the JWT tenant claim)")
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&strategy, "strategy", "", "default dispatch strategy: broadcast, nearest or auto")
	}, func(ctx context.Context, st *store.Store) (any, error) {
		if name == "" {
			name = id
		}
		return st.CreateTenant(ctx, tenants.Tenant{ID: id, Name: name, Settings: tenants.Settings{Strategy: orders.Strategy(strategy)}}, time.Now())
	})
}

func (r runner) tenantKeyAdd(ctx context.Context, args []string) error {
	var tenant, kid, alg, secretFile, jwkFile string
	return r.withRegistry(ctx, "tenant key add", args, func(fs *flag.FlagSet) {
		fs.StringVar(&tenant, "tenant", "", "tenant id")
		fs.StringVar(&kid, "kid", "", "key id (the JWT kid header)")
		fs.StringVar(&alg, "alg", tenants.AlgHS256, "HS256, EdDSA, ES256 or RS256")
		fs.StringVar(&secretFile, "secret-file", "", "HS256: file holding the secret; without it a random one is made and printed once")
		fs.StringVar(&jwkFile, "jwk-file", "", "EdDSA, ES256, RS256: file holding the public JWK")
	}, func(ctx context.Context, st *store.Store) (any, error) {
		req := tenants.NewKeyRequest{KID: kid, Alg: alg}
		generated := false
		switch {
		case jwkFile != "":
			b, err := os.ReadFile(jwkFile)
			if err != nil {
				return nil, err
			}
			req.JWK = b
		case secretFile != "":
			b, err := os.ReadFile(secretFile)
			if err != nil {
				return nil, err
			}
			req.Secret = string(b)
		case alg == tenants.AlgHS256:
			req.Secret, generated = newSecret(), true
		}
		k, err := req.Key(tenant)
		if err != nil {
			return nil, err
		}
		if k, err = st.AddTenantKey(ctx, k, time.Now()); err != nil {
			return nil, err
		}
		out := map[string]any{"tenant": k.Tenant, "kid": k.KID, "alg": k.Alg, "createdAt": k.CreatedAt}
		if generated {
			out["secret"] = req.Secret // shown this once
		}
		return out, nil
	})
}

// newSecret is a random HS256 secret: 32 random bytes as base64url text
// (43 characters; the key is the text's bytes, as for every HS256 key).
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (r runner) tenantAPIKeyCreate(ctx context.Context, args []string) error {
	var tenant, name, sub string
	return r.withRegistry(ctx, "tenant apikey create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&tenant, "tenant", "", "tenant id")
		fs.StringVar(&name, "name", "", "what the key is for")
		fs.StringVar(&sub, "sub", "", "the vendor user the key acts as")
	}, func(ctx context.Context, st *store.Store) (any, error) {
		key, hash := tenants.NewAPIKey()
		k, err := st.CreateAPIKey(ctx, tenants.StoredAPIKey{
			APIKey: tenants.APIKey{ID: orders.NewID(), Tenant: tenant, Name: name, Sub: sub}, Hash: hash}, time.Now())
		if err != nil {
			return nil, err
		}
		return struct {
			tenants.APIKey
			Key string `json:"key"`
		}{k, key}, nil
	})
}
