package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out lockedBuffer
	r := runner{getenv: envMap(env), stdout: &out}
	err := r.run(context.Background(), append([]string{"dispatchd"}, args...))
	return out.String(), err
}

func TestTenantCommands(t *testing.T) {
	env := map[string]string{"DISPATCH_DATA_DIR": t.TempDir()}
	out, err := runCmd(t, env, "tenant", "create", "--id", "acme", "--name", "Acme", "--strategy", "nearest")
	require.NoError(t, err, out)
	var created tenants.Tenant
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	assert.Equal(t, orders.StrategyNearest, created.Settings.Strategy)
	_, err = runCmd(t, env, "tenant", "create", "--id", "acme")
	assert.ErrorContains(t, err, "exists")

	out, err = runCmd(t, env, "tenant", "key", "add", "--tenant", "acme", "--kid", "k1")
	require.NoError(t, err, out)
	var key struct{ Kid, Alg, Secret string }
	require.NoError(t, json.Unmarshal([]byte(out), &key))
	assert.Equal(t, "HS256", key.Alg)
	assert.Len(t, key.Secret, 43, "a generated secret, shown once")

	out, err = runCmd(t, env, "tenant", "apikey", "create", "--tenant", "acme", "--sub", "shop-1", "--name", "backend")
	require.NoError(t, err, out)
	var api struct{ ID, Key, Sub string }
	require.NoError(t, json.Unmarshal([]byte(out), &api))
	assert.True(t, strings.HasPrefix(api.Key, "dk_"))
	assert.Equal(t, "shop-1", api.Sub)

	out, err = runCmd(t, env, "tenant", "list")
	require.NoError(t, err)
	assert.Contains(t, out, `"id": "acme"`)
	_, err = runCmd(t, env, "tenant", "frobnicate")
	assert.ErrorContains(t, err, "unknown subcommand")

	// A token signed with the tenant's key passes the server's verifier;
	// one from the global secret does not, the tenant having keys.
	tok, err := runToken(t, env, "--tenant", "acme", "--role", "driver", "--sub", "d1", "--kid", "k1")
	require.NoError(t, err)
	st, err := store.Open(context.Background(), store.Config{DataDir: env["DISPATCH_DATA_DIR"]}, zap.NewNop())
	require.NoError(t, err)
	defer st.Close()
	cache := tenants.NewCache(st, 0, zap.NewNop())
	require.NoError(t, cache.Load(context.Background()))
	v, err := auth.NewTenantVerifier(auth.Config{Secret: []byte(devJWTSecret)}, cache)
	require.NoError(t, err)
	c, err := v.Verify(tok)
	require.NoError(t, err)
	assert.True(t, c.Expires.After(time.Now()), "exp %s", c.Expires)
	c.Expires = time.Time{}
	assert.Equal(t, auth.Claims{Subject: "d1", Tenant: "acme", Role: orders.RoleDriver}, c)
	devTok, err := runToken(t, env, "--dev", "--tenant", "acme", "--role", "driver", "--sub", "d1")
	require.NoError(t, err)
	_, err = v.Verify(devTok)
	assert.ErrorIs(t, err, auth.ErrUnauthorized)
	_, err = runToken(t, env, "--tenant", "acme", "--role", "driver", "--sub", "d1", "--kid", "k9")
	assert.ErrorContains(t, err, `no key "k9"`)
}

// TestTokenNeedsASecretOrDev: without DISPATCH_JWT_SECRET the token
// command refuses to sign with the public development secret silently.
func TestTokenNeedsASecretOrDev(t *testing.T) {
	_, err := runToken(t, nil, "--tenant", "acme", "--role", "driver", "--sub", "d1")
	require.ErrorContains(t, err, "--dev")
	tok, err := runToken(t, nil, "--dev", "--tenant", "acme", "--role", "driver", "--sub", "d1")
	require.NoError(t, err)
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(devJWTSecret)})
	require.NoError(t, err)
	_, err = v.Verify(tok)
	require.NoError(t, err)
}
