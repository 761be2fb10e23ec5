package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
)

// TestListPage: pages of the caller's own orders, DefaultPageSize when no
// limit is asked, more only when an order follows; a limit out of
// 1-MaxPageSize, an After that is no id, an unknown status and a role
// without own orders are refused before the store is asked.
func TestListPage(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()}, zaptest.NewLogger(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	svc := NewService(st, noRelay{}, noLocations{}, nil, nil)
	vendor := auth.Claims{Tenant: "acme", Role: orders.RoleVendor, Subject: "v1"}
	n := orders.NewOrder{Store: "Pizza Nord", CustomerID: "c1",
		Pickup:  orders.Place{Address: "1 Main St", Lat: 52.52, Lng: 13.40},
		Dropoff: orders.Place{Address: "9 Side St", Lat: 52.50, Lng: 13.42}}
	var ids []string
	for range DefaultPageSize + 2 {
		o, _, err := svc.CreateOrder(ctx, vendor, n)
		require.NoError(t, err)
		ids = append(ids, o.ID)
	}
	idsOf := func(list []orders.Order) []string {
		out := []string{}
		for _, o := range list {
			out = append(out, o.ID)
		}
		return out
	}

	list, more, err := svc.ListPage(ctx, vendor, "", Page{})
	require.NoError(t, err)
	assert.True(t, more)
	assert.Equal(t, ids[:DefaultPageSize], idsOf(list))
	list, more, err = svc.ListPage(ctx, vendor, "", Page{After: ids[DefaultPageSize-1]})
	require.NoError(t, err)
	assert.False(t, more)
	assert.Equal(t, ids[DefaultPageSize:], idsOf(list))
	list, more, err = svc.ListPage(ctx, vendor, "", Page{After: ids[len(ids)-3], Limit: 2})
	require.NoError(t, err)
	assert.False(t, more, "exactly the rest: no empty page after it")
	assert.Equal(t, ids[len(ids)-2:], idsOf(list))

	tests := []struct {
		name   string
		claims auth.Claims
		status orders.Status
		page   Page
		want   orders.Code
	}{
		{"limit above max", vendor, "", Page{Limit: MaxPageSize + 1}, orders.CodeInvalidArgument},
		{"negative limit", vendor, "", Page{Limit: -1}, orders.CodeInvalidArgument},
		{"after no id", vendor, "", Page{After: "x"}, orders.CodeInvalidArgument},
		{"unknown status", vendor, "lost", Page{}, orders.CodeInvalidArgument},
		{"dispatcher", auth.Claims{Tenant: "acme", Role: orders.RoleDispatcher, Subject: "op"}, "", Page{}, orders.CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := svc.ListPage(ctx, tt.claims, tt.status, tt.page)
			code, _ := orders.CodeOf(err)
			assert.Equal(t, tt.want, code, "%v", err)
		})
	}
}
