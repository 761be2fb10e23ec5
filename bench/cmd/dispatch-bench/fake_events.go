package main

import (
	"bytes"
	"slices"
)

// event handles one client EVENT on the session's reader goroutine.
func (f *fake) event(c *fconn, fr *frame) {
	switch c.ns + " " + string(fr.name) {
	case "/vendors order:create":
		c.user.t.create(c, fr)
	case "/customers order:watch":
		c.user.t.watch(c, fr)
	case "/drivers pickups:subscribe":
		c.user.t.subscribe(c, fr)
	case "/drivers pickup:claim":
		c.user.t.claim(c, fr)
	case "/drivers order:picked_up":
		c.user.t.transition(c, fr, "assigned", "picked_up")
	case "/drivers order:in_transit":
		c.user.t.transition(c, fr, "picked_up", "in_transit")
	case "/drivers order:delivered":
		c.user.t.transition(c, fr, "in_transit", "delivered")
	case "/drivers location:update":
		c.user.t.location(c, fr)
	default:
		c.ackError(fr.ackID, "unknown_event")
	}
}

var (
	orderKey  = []byte(`,"order":`)
	eventHead = []byte(`{"eventId":"`)
)

func (t *ftenant) create(c *fconn, fr *frame) {
	store, okS := fieldValue(fr.args, "store")
	cust, okC := fieldValue(fr.args, "customerId")
	pickup, okP := objectValue(fr.args, "pickup")
	dropoff, okD := objectValue(fr.args, "dropoff")
	if !okS || !okC || !okP || !okD || len(store) == 0 || len(cust) == 0 {
		c.ackError(fr.ackID, "invalid_argument")
		return
	}
	key, _ := fieldValue(fr.args, "idempotencyKey")
	vendor, customer := c.user, t.user("customer", string(cust))
	at := nowText()
	t.mu.Lock()
	idemKey := ""
	if len(key) > 0 {
		idemKey = vendor.sub + "\n" + string(key)
		if o := t.idem[idemKey]; o != nil {
			body := o.appendOrder(nil, t, at)
			t.mu.Unlock()
			c.ackOK(fr.ackID, orderKey, body)
			return
		}
	}
	o := &forder{id: string(t.f.newID(nil, 'O')), store: string(store), idemKey: idemKey, vendor: vendor, customer: customer,
		pickup: bytes.Clone(pickup), dropoff: bytes.Clone(dropoff), createdAt: at, status: "ready", version: 1}
	t.orders[o.id] = o
	if idemKey != "" {
		t.idem[idemKey] = o
	}
	body := o.appendOrder(nil, t, at)
	subs := t.subs
	ch := change{to: []*fuser{vendor, customer}, status: o.statusEvent(t.f, at)}
	t.mu.Unlock()
	c.ackOK(fr.ackID, orderKey, body)
	head := t.f.newID(append(make([]byte, 0, len(body)+64), eventHead...), 'E')
	head = append(append(append(head, `","order":`...), body...), `,"seq":`...)
	broadcast(subs, "pickup:available", head)
	ch.send()
}

func (t *ftenant) watch(c *fconn, fr *frame) {
	id, _ := fieldValue(fr.args, "orderId")
	t.mu.Lock()
	o := t.orders[string(id)]
	switch {
	case o == nil:
		t.mu.Unlock()
		c.ackError(fr.ackID, "not_found")
		return
	case o.customer != c.user:
		t.mu.Unlock()
		c.ackError(fr.ackID, "forbidden")
		return
	}
	if !slices.Contains(o.watchers, c.user) {
		o.watchers = append(o.watchers, c.user)
	}
	body := o.appendOrder(nil, t, nowText())
	t.mu.Unlock()
	c.ackOK(fr.ackID, orderKey, body, []byte(`,"events":[]`))
}

func (t *ftenant) subscribe(c *fconn, fr *frame) {
	at := nowText()
	t.mu.Lock()
	if u := c.user; !u.subscribed {
		u.subscribed = true
		t.subs = append(slices.Clip(t.subs), u)
	}
	list := []byte(`,"pickups":[`)
	for _, o := range t.orders {
		if o.status == "ready" {
			if list[len(list)-1] == '}' {
				list = append(list, ',')
			}
			list = o.appendOrder(list, t, at)
		}
	}
	t.mu.Unlock()
	c.ackOK(fr.ackID, append(list, ']'))
}

// claim: the first claim of a ready order wins; the winner's retry is
// answered as a win, everybody else's as already_claimed.
func (t *ftenant) claim(c *fconn, fr *frame) {
	id, _ := fieldValue(fr.args, "orderId")
	u := c.user
	at := nowText()
	t.mu.Lock()
	o := t.orders[string(id)]
	switch {
	case o == nil:
		t.mu.Unlock()
		c.ackError(fr.ackID, "not_found")
		return
	case o.status != "ready" && o.driver == u:
		body := o.appendOrder(nil, t, at)
		t.mu.Unlock()
		c.ackOK(fr.ackID, orderKey, body)
		return
	case o.status != "ready":
		t.mu.Unlock()
		c.ackError(fr.ackID, "already_claimed")
		return
	}
	o.status, o.driver = "assigned", u
	o.version++
	u.carrying = append(u.carrying, o)
	body := o.appendOrder(nil, t, at)
	subs := t.subs
	ch := change{to: []*fuser{o.vendor, o.customer}, status: o.statusEvent(t.f, at)}
	t.mu.Unlock()
	c.ackOK(fr.ackID, orderKey, body)
	head := t.f.newID(append(make([]byte, 0, 96), eventHead...), 'E')
	head = append(append(append(head, `","orderId":"`...), o.id...), `","seq":`...)
	broadcast(subs, "pickup:taken", head)
	ch.send()
}

// transition moves the caller's order from one status to the next; a
// retry of a done move is answered ok.
func (t *ftenant) transition(c *fconn, fr *frame, from, to string) {
	id, _ := fieldValue(fr.args, "orderId")
	u := c.user
	at := nowText()
	t.mu.Lock()
	o := t.orders[string(id)]
	code := ""
	switch {
	case o == nil:
		code = "not_found"
	case o.driver == nil:
		code = "conflict"
	case o.driver != u:
		code = "forbidden"
	case o.status == to:
		body := o.appendOrder(nil, t, at)
		t.mu.Unlock()
		c.ackOK(fr.ackID, orderKey, body)
		return
	case o.status != from:
		code = "conflict"
	}
	if code != "" {
		t.mu.Unlock()
		c.ackError(fr.ackID, code)
		return
	}
	o.status = to
	o.version++
	ch := change{to: []*fuser{o.vendor, o.customer}, status: o.statusEvent(t.f, at)}
	if to == "delivered" {
		t.finish(o)
		head := t.f.newID(append(make([]byte, 0, 128), eventHead...), 'E')
		head = append(append(append(head, `","orderId":"`...), o.id...), `","driverId":"`...)
		head = append(append(append(append(head, u.sub...), `","at":"`...), at...), `","seq":`...)
		ch.extra = func() { o.vendor.deliver("order:delivered", head, seqTail) }
	}
	body := o.appendOrder(nil, t, at)
	t.mu.Unlock()
	c.ackOK(fr.ackID, orderKey, body)
	ch.send()
}

// finish forgets a delivered order, so the fake's memory follows the
// orders in flight, not every order of the run. Under the tenant lock.
func (t *ftenant) finish(o *forder) {
	d := o.driver
	d.carrying = slices.DeleteFunc(d.carrying, func(x *forder) bool { return x == o })
	delete(t.orders, o.id)
	if o.idemKey != "" {
		delete(t.idem, o.idemKey)
	}
}

// location sends driver:location to the watchers of every order the
// driver carries (best effort).
func (t *ftenant) location(c *fconn, fr *frame) {
	lat, okLat := fieldValue(fr.args, "lat")
	lng, okLng := fieldValue(fr.args, "lng")
	if !okLat || !okLng {
		c.ackError(fr.ackID, "invalid_argument")
		return
	}
	at := nowText()
	type send struct {
		to      []*fuser
		payload []byte
	}
	var sends []send
	t.mu.Lock()
	for _, o := range c.user.carrying {
		if len(o.watchers) == 0 {
			continue
		}
		p := append(append(make([]byte, 0, 128), `{"orderId":"`...), o.id...)
		p = append(append(append(p, `","lat":`...), lat...), `,"lng":`...)
		p = append(append(append(append(p, lng...), `,"at":"`...), at...), `"}`...)
		sends = append(sends, send{slices.Clone(o.watchers), p})
	}
	t.mu.Unlock()
	c.ackOK(fr.ackID)
	for _, s := range sends {
		for _, u := range s.to {
			u.notify("driver:location", s.payload)
		}
	}
}

// objectValue returns the raw JSON object that `"key":` introduces in b.
func objectValue(b []byte, key string) ([]byte, bool) {
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], []byte(key))
		if i < 0 {
			return nil, false
		}
		i += off
		off = i + len(key)
		j, ok := valueStart(b, i, off)
		if !ok || j >= len(b) || b[j] != '{' {
			continue
		}
		if end := objectEnd(b, j); end > 0 {
			return b[j:end], true
		}
		return nil, false
	}
	return nil, false
}

// objectEnd is the index just past the object starting at b[j], or -1.
func objectEnd(b []byte, j int) int {
	depth, inString := 0, false
	for k := j; k < len(b); k++ {
		switch {
		case inString && b[k] == '\\':
			k++
		case b[k] == '"':
			inString = !inString
		case inString:
		case b[k] == '{':
			depth++
		case b[k] == '}':
			depth--
			if depth == 0 {
				return k + 1
			}
		}
	}
	return -1
}
