package dispatch

import (
	"context"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

func (t *Handlers) mountCustomers(ns *transport.Namespace) {
	ns.OnConnection(func(s *transport.Socket) {
		sess := sessionOf(s)
		if !t.attach(s, sess) {
			return
		}
		// Positions are best-effort and go to rooms: rejoin those of
		// the orders this user watches.
		t.rejoinWatched(s, sess)
	})
	t.on(ns, ClientOrderWatch, t.forOrder(func(ctx context.Context, s *transport.Socket, sess *session, id string, ack transport.Ack) {
		// Authorise, then subscribe, then take the snapshot: a change
		// between the last two arrives both ways (eventId tells), and
		// none is missed; nobody unauthorised is ever subscribed.
		if _, err := t.svc.Get(ctx, sess.claims, id); err != nil {
			fail(ack, t.log, err)
			return
		}
		if !t.canWatch(sess, id) {
			fail(ack, t.log, orders.Errorf(orders.CodeConflict, "watching too many orders (at most %d); unwatch one first", t.cfg.MaxWatches))
			return
		}
		if err := t.queues.Subscribe(ctx, recipientOf(sess), delivery.SubOrder, id); err != nil {
			fail(ack, t.log, err)
			return
		}
		s.Join(OrderRoom(sess.claims.Tenant, id))
		o, evs, err := t.svc.Watch(ctx, sess.claims, id)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		res := map[string]any{"order": o, "events": evs}
		if o.PIN != "" {
			// The delivery PIN: the order's own customer (Watch checked)
			// is the only one who ever sees it.
			res["pin"] = o.PIN
		}
		ok(ack, res)
	}))
	t.on(ns, ClientOrderUnwatch, t.forOrder(func(ctx context.Context, s *transport.Socket, sess *session, id string, ack transport.Ack) {
		if err := t.queues.Unsubscribe(ctx, recipientOf(sess), delivery.SubOrder, id); err != nil {
			fail(ack, t.log, err)
			return
		}
		s.Leave(OrderRoom(sess.claims.Tenant, id))
		ok(ack, nil)
	}))
}

// canWatch reports whether the customer may watch one more order: it
// already watches id, or watches fewer than MaxWatches (each watch is a
// durable subscription and a room).
func (t *Handlers) canWatch(sess *session, id string) bool {
	open := 0
	for _, sub := range t.queues.Subscriptions(recipientOf(sess)) {
		if sub.Kind != delivery.SubOrder || sub.Until != 0 {
			continue
		}
		if sub.Key == id {
			return true
		}
		open++
	}
	return open < t.cfg.MaxWatches
}
