package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

func testTenantRegistry(t *testing.T, s *Store) {
	ctx := context.Background()
	now := stamp(testTime())
	gen := func() int64 {
		g, err := s.RegistryGeneration(ctx)
		require.NoError(t, err)
		return g
	}
	g0 := gen()
	acme, err := s.CreateTenant(ctx, tenants.Tenant{ID: "acme", Name: "Acme", Settings: tenants.Settings{Strategy: orders.StrategyNearest}}, now)
	require.NoError(t, err)
	assert.Equal(t, g0+1, gen(), "each change moves the generation")
	_, err = s.CreateTenant(ctx, tenants.Tenant{ID: "acme", Name: "Again"}, now)
	assert.ErrorIs(t, err, orders.ErrConflict)
	assert.Equal(t, g0+1, gen(), "a refused change does not")
	_, err = s.CreateTenant(ctx, tenants.Tenant{ID: "bad id", Name: "x"}, now)
	assertCode(t, err, orders.CodeInvalidArgument)
	_, err = s.CreateTenant(ctx, tenants.Tenant{ID: "nul", Name: "a\x00b"}, now)
	assertCode(t, err, orders.CodeInvalidArgument)

	got, err := s.Tenant(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, acme, got)
	_, err = s.Tenant(ctx, "nope")
	assert.ErrorIs(t, err, orders.ErrNotFound)
	up, err := s.UpdateTenant(ctx, "acme", "", &tenants.Settings{Strategy: orders.StrategyAuto}, now.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, "Acme", up.Name, "an empty name keeps the name")
	assert.Equal(t, orders.StrategyAuto, up.Settings.Strategy)
	_, err = s.UpdateTenant(ctx, "nope", "x", &tenants.Settings{}, now)
	assert.ErrorIs(t, err, orders.ErrNotFound)
	// A rename leaves the settings as the row has them (no read-then-write).
	up, err = s.UpdateTenant(ctx, "acme", "Acme Ltd", nil, now.Add(2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, "Acme Ltd", up.Name)
	assert.Equal(t, orders.StrategyAuto, up.Settings.Strategy, "settings untouched by a rename")
	_, err = s.UpdateTenant(ctx, "nope", "x", nil, now)
	assert.ErrorIs(t, err, orders.ErrNotFound)

	k := tenants.Key{Tenant: "acme", KID: "k1", Alg: tenants.AlgHS256, Material: strings.Repeat("s", 32)}
	_, err = s.AddTenantKey(ctx, k, now)
	require.NoError(t, err)
	_, err = s.AddTenantKey(ctx, k, now)
	assert.ErrorIs(t, err, orders.ErrConflict, "a kid names one key")
	k.Tenant = "nope"
	_, err = s.AddTenantKey(ctx, k, now)
	assert.ErrorIs(t, err, orders.ErrNotFound)
	_, err = s.CreateAPIKey(ctx, tenants.StoredAPIKey{APIKey: tenants.APIKey{ID: "a1", Tenant: "acme", Name: "backend", Sub: "v1"}, Hash: "h1"}, now)
	require.NoError(t, err)

	snap, err := s.LoadRegistry(ctx)
	require.NoError(t, err)
	assert.Equal(t, gen(), snap.Generation)
	require.Len(t, snap.Tenants, 1)
	require.Len(t, snap.Keys, 1)
	assert.Equal(t, strings.Repeat("s", 32), snap.Keys[0].Material)
	require.Len(t, snap.APIKeys, 1)
	assert.Equal(t, "h1", snap.APIKeys[0].Hash)

	require.NoError(t, s.DeleteTenantKey(ctx, "acme", "k1"))
	assert.ErrorIs(t, s.DeleteTenantKey(ctx, "acme", "k1"), orders.ErrNotFound)
	require.NoError(t, s.DeleteAPIKey(ctx, "acme", "a1"))
	assert.ErrorIs(t, s.DeleteAPIKey(ctx, "acme", "a1"), orders.ErrNotFound)
	snap, err = s.LoadRegistry(ctx)
	require.NoError(t, err)
	assert.Empty(t, snap.Keys)
	assert.Empty(t, snap.APIKeys)
	list, err := s.Tenants(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 1)
}

func assertCode(t *testing.T, err error, want orders.Code) {
	t.Helper()
	require.Error(t, err)
	code, _ := orders.CodeOf(err)
	assert.Equal(t, want, code, err.Error())
}
