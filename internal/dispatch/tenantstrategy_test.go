package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
)

// TestStrategyPrecedence: an order's strategy is its own, else its
// tenant's setting, else the server's (CONTRACT.md, "Dispatch strategies").
func TestStrategyPrecedence(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()}, zaptest.NewLogger(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	svc := NewService(st, noRelay{}, noLocations{}, nil, nil)
	svc.SetDefaultStrategy(orders.StrategyBroadcast)
	svc.SetTenantStrategy(func(tenant string) orders.Strategy {
		if tenant == "acme" {
			return orders.StrategyAuto
		}
		return "" // no setting
	})
	n := orders.NewOrder{Store: "Pizza Nord", CustomerID: "c1",
		Pickup:  orders.Place{Address: "1 Main St", Lat: 52.52, Lng: 13.40},
		Dropoff: orders.Place{Address: "9 Side St", Lat: 52.50, Lng: 13.42}}
	for _, tc := range []struct {
		name, tenant string
		own          orders.Strategy
		want         orders.Strategy
	}{
		{"the tenant's setting", "acme", "", orders.StrategyAuto},
		{"the order's own over the tenant's", "acme", orders.StrategyBroadcast, orders.StrategyBroadcast},
		{"the server's for a tenant without one", "globex", "", orders.StrategyBroadcast},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := n
			o.Dispatch.Strategy = tc.own
			got, _, err := svc.CreateOrder(ctx, auth.Claims{Tenant: tc.tenant, Role: orders.RoleVendor, Subject: "v1"}, o)
			require.NoError(t, err)
			require.Equal(t, tc.want, got.Dispatch.Strategy)
		})
	}
}
