package main

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// ftenant is one tenant of the fake: its users, its subscribed drivers and
// its orders in flight. mu guards every field below it, the users'
// subscribed and carrying fields and the orders' state. It is released
// before any event is sent: a user's lock (seq and sockets, then each
// socket's) is never taken under it.
type ftenant struct {
	f    *fake
	name string

	mu     sync.Mutex
	users  map[string]*fuser  // role + "\n" + sub
	subs   []*fuser           // subscribed drivers; replaced, never changed in place
	orders map[string]*forder // until delivered
	idem   map[string]*forder // vendor + "\n" + idempotencyKey, until delivered
}

// fuser is one user: its sockets and its seq.
type fuser struct {
	t          *ftenant
	role, sub  string
	subscribed bool      // tenant lock
	carrying   []*forder // assigned and not yet delivered; tenant lock

	mu    sync.Mutex
	seq   int64
	conns []*fconn
}

// forder is one order in flight. Its fields after store change under the
// tenant's lock.
type forder struct {
	id, store, idemKey string
	vendor, customer   *fuser
	pickup, dropoff    []byte
	createdAt          []byte

	status   string
	driver   *fuser
	version  int
	watchers []*fuser
}

func (t *ftenant) user(role, sub string) *fuser {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := role + "\n" + sub
	u := t.users[k]
	if u == nil {
		u = &fuser{t: t, role: role, sub: sub}
		t.users[k] = u
	}
	return u
}

func (u *fuser) add(c *fconn) {
	u.mu.Lock()
	u.conns = append(u.conns, c)
	u.mu.Unlock()
}

func (u *fuser) drop(c *fconn) {
	u.mu.Lock()
	u.conns = slices.DeleteFunc(u.conns, func(x *fconn) bool { return x == c })
	u.mu.Unlock()
}

// deliver sends a durable event to every socket of u with u's next seq:
// `name` with payload head + seq + tail. With no socket the event is
// dropped (the fake keeps no queue) and the seq not spent.
func (u *fuser) deliver(name string, head, tail []byte) {
	u.mu.Lock()
	if len(u.conns) > 0 {
		u.seq++
		for _, c := range u.conns {
			c.appendEvent(name, head, u.seq, tail)
		}
		u.t.f.delivered.Add(int64(len(u.conns)))
	}
	u.mu.Unlock()
}

// notify sends a best-effort event (no seq, no ack request).
func (u *fuser) notify(name string, payload []byte) {
	u.mu.Lock()
	for _, c := range u.conns {
		c.appendEvent(name, payload, -1, nil)
	}
	u.mu.Unlock()
}

// appendOrder appends the order object as dispatchd shapes it (the field
// order of its JSON). Under the tenant lock.
func (o *forder) appendOrder(b []byte, t *ftenant, updatedAt []byte) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, o.id...)
	b = append(b, `","tenant":"`...)
	b = append(b, t.name...)
	b = append(b, `","vendorId":"`...)
	b = append(b, o.vendor.sub...)
	b = append(b, `","customerId":"`...)
	b = append(b, o.customer.sub...)
	b = append(b, `","store":"`...)
	b = append(b, o.store...)
	b = append(b, `","pickup":`...)
	b = append(b, o.pickup...)
	b = append(b, `,"dropoff":`...)
	b = append(b, o.dropoff...)
	b = append(b, `,"status":"`...)
	b = append(b, o.status...)
	if o.driver != nil {
		b = append(b, `","driverId":"`...)
		b = append(b, o.driver.sub...)
	}
	b = append(b, `","dispatch":{"strategy":"broadcast"},"createdAt":"`...)
	b = append(b, o.createdAt...)
	b = append(b, `","updatedAt":"`...)
	b = append(b, updatedAt...)
	b = append(b, `","version":`...)
	b = strconv.AppendInt(b, int64(o.version), 10)
	return append(b, '}')
}

// newID makes a 26-character id (the length of a ULID), sortable by
// creation within one fake.
func (f *fake) newID(dst []byte, prefix byte) []byte {
	var num [20]byte
	n := strconv.AppendInt(num[:0], f.ids.Add(1), 10)
	dst = append(dst, prefix)
	for range 25 - len(n) {
		dst = append(dst, '0')
	}
	return append(dst, n...)
}

func nowText() []byte {
	return time.Now().UTC().AppendFormat(make([]byte, 0, 32), time.RFC3339Nano)
}

// statusEvent is the head of an order:status payload (the seq follows).
func (o *forder) statusEvent(f *fake, at []byte) []byte {
	b := append(make([]byte, 0, 192), `{"eventId":"`...)
	b = f.newID(b, 'E')
	b = append(b, `","orderId":"`...)
	b = append(b, o.id...)
	b = append(b, `","status":"`...)
	b = append(b, o.status...)
	if o.driver != nil {
		b = append(b, `","driverId":"`...)
		b = append(b, o.driver.sub...)
	}
	b = append(b, `","at":"`...)
	b = append(b, at...)
	return append(b, `","seq":`...)
}

// change is what a committed transition announces, gathered under the
// tenant lock and sent after it.
type change struct {
	to     []*fuser // order:status recipients
	status []byte
	extra  func() // pickups and the vendor's order:delivered
}

var seqTail = []byte("}")

func (ch change) send() {
	for _, u := range ch.to {
		u.deliver("order:status", ch.status, seqTail)
	}
	if ch.extra != nil {
		ch.extra()
	}
}

// broadcast sends a durable event to every subscribed driver.
func broadcast(subs []*fuser, name string, head []byte) {
	for _, u := range subs {
		u.deliver(name, head, seqTail)
	}
}
