package store

import (
	"slices"
	"sync"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// maxCachedOrders bounds the orders in flight kept in memory. An order is
// at most a few kB (its size is bounded where it is posted), so this is a
// few MB at worst; past it any entry makes room.
const maxCachedOrders = 4096

// orderCache keeps the last state this node read or wrote of orders in
// flight, so that a transition can skip its reads: the committed-state
// read before queueing for the writer, when the cached state says the
// action would change the order, and the full read inside the
// transaction, when the row's version there is still the cached one.
//
// It never decides anything alone: an entry may be stale (another node
// moved the order; or this one, and has not put the result yet), so a
// refusal is always read from the database, and inside the transaction
// only a version equal to the row's stands in for the row, which every
// change of an orders row increments.
type orderCache struct {
	mu sync.Mutex
	m  map[orderKey]orders.Order
}

type orderKey struct{ tenant, id string }

func newOrderCache() *orderCache {
	return &orderCache{m: make(map[orderKey]orders.Order)}
}

// get returns a copy of the cached order, which the caller may change.
func (c *orderCache) get(tenant, id string) (orders.Order, bool) {
	if c == nil {
		return orders.Order{}, false
	}
	c.mu.Lock()
	o, ok := c.m[orderKey{tenant, id}]
	c.mu.Unlock()
	return cloneOrder(o), ok
}

// put keeps a copy of o, a state read from the database or just committed,
// unless a later version is kept already. An order that has ended is
// dropped instead: nothing moves it any more.
func (c *orderCache) put(o orders.Order) {
	if c == nil {
		return
	}
	k := orderKey{o.Tenant, o.ID}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[k]; ok && cur.Version > o.Version {
		return
	}
	if o.Status.Ended() {
		delete(c.m, k)
		return
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= maxCachedOrders {
		for old := range c.m { // any: a miss costs only a read
			delete(c.m, old)
			break
		}
	}
	c.m[k] = cloneOrder(o)
}

// cloneOrder copies what Order shares by reference.
func cloneOrder(o orders.Order) orders.Order {
	o.Items = slices.Clone(o.Items)
	if o.Failure != nil {
		f := *o.Failure
		o.Failure = &f
	}
	return o
}
