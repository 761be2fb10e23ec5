package main

import (
	"context"
	"time"
)

// handler returns the reader-side event handler of a user in ns.
func (u *user) handler(ns string) eventFunc {
	switch ns {
	case "/drivers":
		return u.onDriverEvent
	case "/vendors":
		return u.onVendorEvent
	default:
		return u.onCustomerEvent
	}
}

// common does what every event needs: count it, check and ack durable
// ones, and report whether the scenario should look further (not for the
// canary, whose every event is a cross-tenant delivery).
func (u *user) common(c *conn, f *frame) (kind int, ok bool) {
	st := u.b.st
	kind = st.countEvent(f.name)
	if kind != evDriverLocation {
		if f.ackID >= 0 {
			c.ack(f.ackID)
		} else {
			st.fail("durable_without_ack_request")
		}
		seq, found := fieldInt(f.args, "seq")
		if _, hasID := fieldValue(f.args, "eventId"); !found || !hasID {
			st.fail("durable_without_seq_or_event_id")
		} else {
			u.seq.see(seq)
			st.durable.Add(1)
		}
	}
	if u.tenant < 0 {
		st.crossTenant.Add(1)
		return kind, false
	}
	return kind, true
}

func (u *user) onDriverEvent(c *conn, f *frame, now time.Time) {
	kind, ok := u.common(c, f)
	if !ok || kind != evPickupAvailable {
		return
	}
	b := u.b
	i := orderIndex(f.args, b.run)
	o := b.orders.get(i)
	id, found := fieldValue(f.args, "id")
	if o == nil || !found {
		b.st.fail("unknown_order")
		return
	}
	if o.tenant != u.tenant {
		b.st.crossTenant.Add(1)
		return
	}
	b.orders.setID(i, string(id))
	o.pickups.Add(1)
	b.st.pickups.Add(1)
	lat := now.Sub(o.at)
	if o.measured {
		b.st.pickupLat.record(u.idx, lat)
	}
	b.steps.pickup(o.step, u.idx, lat)
	n := len(b.tenants[u.tenant].drivers)
	if !isClaimer(u.idx, claimStart(id, n), b.cfg.Claimers, n) {
		return
	}
	ref := orderRef(id)
	c.emit("pickup:claim", ref, func(data []byte, _ time.Time) {
		ok, code := ackResult(data)
		switch {
		case ok:
			o.winners.Add(1)
			b.carry.Go(func() { u.carryOrder(b.ctx, ref) })
		case code == "already_claimed":
			o.losers.Add(1)
		default:
			b.st.fail(code)
		}
	})
}

func (u *user) onVendorEvent(c *conn, f *frame, now time.Time) {
	kind, ok := u.common(c, f)
	if !ok || kind != evOrderDelivered {
		return
	}
	b := u.b
	id, found := fieldValue(f.args, "orderId")
	i, known := b.orders.lookup(id)
	if !found || !known {
		b.st.fail("unknown_order")
		return
	}
	o := b.orders.get(i)
	if !o.done.CompareAndSwap(false, true) {
		return // a redelivery; the seq checker has counted it
	}
	b.st.completed.Add(1)
	if o.measured {
		b.st.completeLat.record(u.idx, now.Sub(o.at))
	}
}

func (u *user) onCustomerEvent(c *conn, f *frame, _ time.Time) {
	u.common(c, f)
}

// carryOrder is the winner's part: picked_up, in_transit, location
// updates at --location-rate for --carry (counted from picked_up), then
// delivered. One goroutine per carried order, owned by bench.carry.
func (u *user) carryOrder(ctx context.Context, ref []byte) {
	b := u.b
	start := time.Now()
	for _, ev := range []string{"order:picked_up", "order:in_transit"} {
		if !u.call(ctx, ev, ref) {
			return
		}
	}
	end := start.Add(b.cfg.Carry)
	if b.cfg.LocationRate > 0 {
		every := time.Duration(float64(time.Second) / b.cfg.LocationRate)
		tick := time.NewTicker(every)
		defer tick.Stop()
		loc := []byte(`{"lat":52.365,"lng":4.895,"heading":90,"speed":8.5}`)
		for next := start.Add(every); next.Before(end); next = next.Add(every) {
			select {
			case <-ctx.Done():
				return
			case <-u.c.done:
				return
			case <-tick.C:
			}
			u.c.emit("location:update", loc, b.okAck)
		}
	}
	if wait := time.Until(end); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	u.call(ctx, "order:delivered", ref)
}

// call emits ev and waits for an ok ack; a non-ok one is an error.
func (u *user) call(ctx context.Context, ev string, payload []byte) bool {
	res := make(chan bool, 1)
	u.c.emit(ev, payload, func(data []byte, _ time.Time) {
		ok, code := ackResult(data)
		if !ok {
			u.b.st.fail(code)
		}
		res <- ok
	})
	select {
	case ok := <-res:
		return ok
	case <-u.c.done:
		return false
	case <-ctx.Done():
		return false
	}
}
