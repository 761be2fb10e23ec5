package dispatch

import (
	"context"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

func (t *Handlers) mountVendors(ns *transport.Namespace) {
	ns.OnConnection(func(s *transport.Socket) {
		t.attach(s, sessionOf(s))
	})
	t.on(ns, ClientOrderCreate, func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		n := orders.NewOrderInput() // missing coordinates stay unset, not 0
		if err := decode(m, &n); err != nil {
			fail(ack, t.log, err)
			return
		}
		ctx, cancel := t.ctx()
		defer cancel()
		o, _, err := t.svc.CreateOrder(ctx, sess.claims, n)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		ok(ack, map[string]any{"order": o})
	})
	t.on(ns, ClientOrderCancel, t.action(orders.ActionCancel))
	t.on(ns, ClientOrdersList, func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		var req struct {
			Status orders.Status `json:"status"`
		}
		if err := decodeOptional(m, &req); err != nil {
			fail(ack, t.log, err)
			return
		}
		ctx, cancel := t.ctx()
		defer cancel()
		list, err := t.svc.List(ctx, sess.claims, req.Status)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		if list == nil {
			list = []orders.Order{}
		}
		ok(ack, map[string]any{"orders": list})
	})
}

// action handles the events that move one order along its lifecycle.
func (t *Handlers) action(a orders.Action) eventFunc {
	return t.forOrder(func(ctx context.Context, _ *transport.Socket, sess *session, id string, ack transport.Ack) {
		o, err := t.svc.Act(ctx, sess.claims, id, a)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		ok(ack, map[string]any{"order": o})
	})
}
