package dispatch

import (
	"github.com/dispatchd/dispatchd/internal/transport"
)

// mountDispatchers serves /dispatchers: the tenant's operators. The board
// is a snapshot (board:subscribe) followed by best-effort updates to the
// board room (board:order, from the Board).
func (t *Handlers) mountDispatchers(ns *transport.Namespace) {
	ns.OnConnection(func(s *transport.Socket) {
		t.attach(s, sessionOf(s))
	})
	t.on(ns, ClientBoardSubscribe, func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		zone, err := zoneRequest(m)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		// Join before the snapshot: a change in between is both listed
		// and sent, never neither (board:order carries the whole order,
		// so the newer version wins on the client).
		s.Join(BoardRoom(sess.claims.Tenant, zone))
		ctx, cancel := t.ctx()
		defer cancel()
		active, drivers, err := t.svc.Board(ctx, sess.claims, zone)
		if err != nil {
			s.Leave(BoardRoom(sess.claims.Tenant, zone))
			fail(ack, t.log, err)
			return
		}
		ok(ack, map[string]any{"orders": active, "drivers": drivers})
	})
}
