package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// ActiveOrderLister lists a driver's orders from assigned until they end.
type ActiveOrderLister interface {
	ActiveOrders(ctx context.Context, tenant, driverID string) ([]orders.Order, error)
}

const (
	// activeTTL bounds how long a node shows positions on a driver's
	// orders as it last read them when another node moved them along:
	// transitions on this node clear the entry at once.
	activeTTL = 2 * time.Second
	// maxActive bounds the cache; past it, expired entries go, and if
	// none had expired, all.
	maxActive = 100_000
)

// activeOrders resolves a driver's orders per driver, not per socket:
// every socket of the driver, on any node, reads the same store rows.
// A store read per position would cost one query per driver every few
// seconds; the short cache makes it one per driver per activeTTL, and
// clearing it on this node's transitions keeps the driver's own moves
// (claim, pickup, delivery) visible at the next position.
type activeOrders struct {
	store ActiveOrderLister
	now   func() time.Time

	mu sync.Mutex
	m  map[driverKey]activeEntry
}

type driverKey struct{ tenant, driver string }

type activeEntry struct {
	list    []orders.Order
	expires time.Time
}

func newActiveOrders(store ActiveOrderLister, now func() time.Time) *activeOrders {
	return &activeOrders{store: store, now: now, m: make(map[driverKey]activeEntry)}
}

// get returns the driver's active orders, from the cache when fresh.
func (a *activeOrders) get(ctx context.Context, tenant, driver string) ([]orders.Order, error) {
	k := driverKey{tenant, driver}
	now := a.now()
	a.mu.Lock()
	e, ok := a.m[k]
	a.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.list, nil
	}
	list, err := a.store.ActiveOrders(ctx, tenant, driver)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) >= maxActive {
		a.evict(now)
	}
	a.m[k] = activeEntry{list: list, expires: now.Add(activeTTL)}
	return list, nil
}

// evict drops expired entries, or every entry when none had expired.
// Called with mu held.
func (a *activeOrders) evict(now time.Time) {
	for k, e := range a.m {
		if !now.Before(e.expires) {
			delete(a.m, k)
		}
	}
	if len(a.m) >= maxActive {
		clear(a.m)
	}
}

// forget drops a driver's entry: one of its orders changed on this node.
func (a *activeOrders) forget(tenant, driver string) {
	if driver == "" {
		return
	}
	a.mu.Lock()
	delete(a.m, driverKey{tenant, driver})
	a.mu.Unlock()
}
