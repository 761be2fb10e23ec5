package dispatch

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// writeCounter is the real store, counting the orders asked of it.
type writeCounter struct {
	Store
	creates atomic.Int32
}

func (w *writeCounter) CreateOrderWithDeadlines(ctx context.Context, tenant, vendorID string, n orders.NewOrder, now time.Time, dc deadline.Changes) (orders.Order, *orders.Event, error) {
	w.creates.Add(1)
	return w.Store.CreateOrderWithDeadlines(ctx, tenant, vendorID, n, now, dc)
}

type noRelay struct{}

func (noRelay) Wake() {}

type noLocations struct{}

func (noLocations) Publish(context.Context, string, string, []Leg, Location, time.Time) error {
	return nil
}

func (noLocations) PublishDuty(context.Context, orders.Duty) error { return nil }

// TestServiceRefusesNUL: a NUL in any text field is invalid_argument and
// never reaches the store, on SQLite and on PostgreSQL (which answered
// internal, and logged an error, where SQLite stored it).
func TestServiceRefusesNUL(t *testing.T) {
	backends := map[string]store.Config{"sqlite": {DataDir: t.TempDir()}}
	if url := os.Getenv("DISPATCH_TEST_DATABASE_URL"); url != "" {
		backends["postgres"] = store.Config{DatabaseURL: testproc.FreshSchema(t, url, "tenants")}
	}
	vendor := auth.Claims{Tenant: "acme", Role: orders.RoleVendor, Subject: "v1"}
	driver := auth.Claims{Tenant: "acme", Role: orders.RoleDriver, Subject: "d1"}
	valid := func() orders.NewOrder {
		return orders.NewOrder{
			Store: "Pizza Nord", CustomerID: "c1", Zone: "north",
			Pickup:  orders.Place{Address: "1 Main St", Lat: 52.52, Lng: 13.40},
			Dropoff: orders.Place{Address: "9 Side St", Lat: 52.50, Lng: 13.42},
			Items:   []orders.Item{{Name: "margherita", Qty: 2}},
		}
	}
	for name, cfg := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, cfg, zaptest.NewLogger(t))
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, st.Close()) })
			counted := &writeCounter{Store: st}
			svc := NewService(counted, noRelay{}, noLocations{}, nil, nil)

			creates := []struct {
				field  string
				mutate func(*orders.NewOrder)
			}{
				{"store", func(n *orders.NewOrder) { n.Store = "Pizza\x00" }},
				{"customerId", func(n *orders.NewOrder) { n.CustomerID = "c\x00" }},
				{"zone", func(n *orders.NewOrder) { n.Zone = "\x00" }},
				{"pickup.address", func(n *orders.NewOrder) { n.Pickup.Address = "1\x00" }},
				{"dropoff.address", func(n *orders.NewOrder) { n.Dropoff.Address = "\x009" }},
				{"items[].name", func(n *orders.NewOrder) { n.Items[0].Name = "a\x00b" }},
				{"idempotencyKey", func(n *orders.NewOrder) { n.IdempotencyKey = "k\x00" }},
			}
			for _, tt := range creates {
				t.Run(tt.field, func(t *testing.T) {
					n := valid()
					tt.mutate(&n)
					_, _, err := svc.CreateOrder(ctx, vendor, n)
					code, msg := orders.CodeOf(err)
					assert.Equal(t, orders.CodeInvalidArgument, code, "%v", err)
					assert.Contains(t, msg, tt.field)
				})
			}
			assert.Zero(t, counted.creates.Load(), "nothing with a NUL reached the store")

			// The other inputs: ids, zones and statuses.
			id := orders.NewID()
			_, err = svc.Act(ctx, driver, id[:35]+"\x00", orders.ActionClaim)
			assertInvalid(t, err)
			_, err = svc.Get(ctx, vendor, "\x00"+id[1:])
			assertInvalid(t, err)
			_, err = svc.Pickups(ctx, driver, "n\x00")
			assertInvalid(t, err)
			_, err = svc.List(ctx, vendor, orders.Status("ready\x00"))
			assertInvalid(t, err)

			_, created, err := svc.CreateOrder(ctx, vendor, valid())
			require.NoError(t, err)
			assert.True(t, created)
		})
	}
}

func assertInvalid(t *testing.T, err error) {
	t.Helper()
	code, _ := orders.CodeOf(err)
	assert.Equal(t, orders.CodeInvalidArgument, code, "%v", err)
}
