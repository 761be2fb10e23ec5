package tenants

import (
	"github.com/dispatchd/dispatchd/internal/hub"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

func (t *Tenants) mountCustomers(ns *transport.Namespace) {
	ns.Use(t.authenticate(orders.RoleCustomer))
	ns.OnConnection(func(s *transport.Socket) {
		t.on(s, "order:watch", func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
			id, err := orderID(m)
			if err != nil {
				fail(ack, t.log, err)
				return
			}
			ctx, cancel := t.ctx()
			defer cancel()
			// Authorise, then join, then take the snapshot: a change
			// between the last two arrives both ways (eventId tells), and
			// none is missed; nobody unauthorised is ever in the room.
			if _, err := t.svc.Get(ctx, sess.claims, id); err != nil {
				fail(ack, t.log, err)
				return
			}
			s.Join(hub.OrderRoom(sess.claims.Tenant, id))
			o, evs, err := t.svc.Watch(ctx, sess.claims, id)
			if err != nil {
				fail(ack, t.log, err)
				return
			}
			ok(ack, map[string]any{"order": o, "events": evs})
		})
		t.on(s, "order:unwatch", func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
			id, err := orderID(m)
			if err != nil {
				fail(ack, t.log, err)
				return
			}
			s.Leave(hub.OrderRoom(sess.claims.Tenant, id))
			ok(ack, nil)
		})
	})
}
