package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

func TestMaxSocketsPerTenant(t *testing.T) {
	e := newEnv(t, Config{MaxSocketsPerTenant: 2})
	try := func(tenant string, role orders.Role, sub string) (*sioclient.Client, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := sioclient.Dial(ctx, e.url)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		ns := "/" + string(role) + "s"
		_, err = c.Connect(ctx, ns, map[string]string{"token": token(t, tenant, role, sub)})
		return c, err
	}
	first, err := try("acme", orders.RoleDriver, "d1")
	require.NoError(t, err)
	_, err = try("acme", orders.RoleVendor, "v1")
	require.NoError(t, err, "namespaces count together")
	_, err = try("acme", orders.RoleCustomer, "c1")
	var ce *sioclient.ConnectError
	require.ErrorAs(t, err, &ce)
	assert.JSONEq(t, `{"code":"rate_limited"}`, string(ce.Data))
	_, err = try("globex", orders.RoleDriver, "d1")
	require.NoError(t, err, "another tenant has its own share")

	require.NoError(t, first.Close())
	require.Eventually(t, func() bool {
		c, err := try("acme", orders.RoleCustomer, "c1")
		if err != nil {
			_ = c.Close()
		}
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "a closed socket frees its slot")
}

func TestMaxWatches(t *testing.T) {
	e := newEnv(t, Config{MaxWatches: 2})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	customer := e.connect(t, "acme", orders.RoleCustomer, "c1")
	var ids []string
	for range 3 {
		ids = append(ids, vendor.mustOK("order:create", newOrder("c1")).Order.ID)
	}
	watch := func(id string) map[string]any { return map[string]any{"orderId": id} }
	customer.mustOK("order:watch", watch(ids[0]))
	customer.mustOK("order:watch", watch(ids[1]))
	customer.mustFail(orders.CodeConflict, "order:watch", watch(ids[2]))
	customer.mustOK("order:watch", watch(ids[0]))
	customer.mustOK("order:unwatch", watch(ids[1]))
	customer.mustOK("order:watch", watch(ids[2]))
}

// TestTenantEventLimits: a tenant's own limits shape its sockets' event
// budget; other tenants keep the server's.
func TestTenantEventLimits(t *testing.T) {
	e := newEnv(t, Config{EventsPerSecond: 100, EventBurst: 100, TenantLimits: func(tenant string) (float64, int) {
		if tenant == "tight" {
			return 0.01, 2
		}
		return 0, 0
	}})
	tight := e.connect(t, "tight", orders.RoleVendor, "v1")
	roomy := e.connect(t, "acme", orders.RoleVendor, "v1")
	for range 2 {
		tight.mustOK("orders:list", map[string]any{})
	}
	tight.mustFail(orders.CodeRateLimited, "orders:list", map[string]any{})
	for range 10 {
		roomy.mustOK("orders:list", map[string]any{})
	}
}
