package store

import (
	"slices"
	"sync"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// maxCacheBytes bounds the memory of the orders kept, counted by the
// bytes of their fields (orderBytes): a typical order is under 1 kB, one
// at the posting limits about 21 kB. Past it any entries make room.
const maxCacheBytes = 8 << 20

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
	mu    sync.Mutex
	m     map[orderKey]orders.Order
	bytes int // orderBytes of every entry in m
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
	cur, ok := c.m[k]
	if ok && cur.Version > o.Version {
		return
	}
	if ok {
		c.bytes -= orderBytes(cur)
		delete(c.m, k)
	}
	if o.Status.Ended() {
		return
	}
	size := orderBytes(o)
	for old, v := range c.m { // any: a miss costs only a read
		if c.bytes+size <= maxCacheBytes {
			break
		}
		c.bytes -= orderBytes(v)
		delete(c.m, old)
	}
	if c.bytes+size > maxCacheBytes {
		return
	}
	c.m[k] = cloneOrder(o)
	c.bytes += size
}

// orderBytes approximates the memory an order holds: its strings and
// items, and the struct and map entry around them.
func orderBytes(o orders.Order) int {
	n := 512 + len(o.ID) + len(o.Tenant) + len(o.VendorID) + len(o.CustomerID) + len(o.Store) + len(o.Zone) +
		len(o.Pickup.Address) + len(o.Dropoff.Address) + len(o.DriverID) + len(o.PIN) + len(o.TrackingToken) +
		len(o.TrackingURL)
	for _, it := range o.Items {
		n += 24 + len(it.Name)
	}
	return n
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
