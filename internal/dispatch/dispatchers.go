package dispatch

import (
	"github.com/dispatchd/dispatchd/internal/orders"
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
		// One board per socket: a new board:subscribe replaces the last,
		// so the rooms a socket holds stay bounded whatever it sends.
		room := BoardRoom(sess.claims.Tenant, zone)
		if old := sess.swapBoard(room); old != "" && old != room {
			s.Leave(old)
		}
		s.Join(room)
		s.Join(BoardDriversRoom(sess.claims.Tenant))
		ctx, cancel := t.ctx()
		defer cancel()
		active, drivers, err := t.svc.Board(ctx, sess.claims, zone)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		ok(ack, map[string]any{"orders": active, "drivers": drivers})
	})
	// Manual dispatch: any order of the tenant, by the dispatcher rules
	// of orders.Decide.
	t.on(ns, ClientOrderAssign, t.assign)
	t.on(ns, ClientOrderUnassign, t.request(orders.ActionUnassign))
	t.on(ns, ClientOrderCancel, t.request(orders.ActionCancel))
	t.on(ns, ClientBoardStats, t.boardStats)
}

// assign handles order:assign { orderId, driverId }.
func (t *Handlers) assign(_ *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
	var in struct {
		OrderID  string `json:"orderId"`
		DriverID string `json:"driverId"`
	}
	if err := decode(m, &in); err != nil {
		fail(ack, t.log, err)
		return
	}
	if err := orders.CheckID(in.OrderID); err != nil {
		fail(ack, t.log, err)
		return
	}
	if !orders.ValidName(in.DriverID) {
		fail(ack, t.log, orders.Errorf(orders.CodeInvalidArgument, "driverId must be 1-%d letters, digits, '_' or '-'", orders.MaxNameLen))
		return
	}
	ctx, cancel := t.ctx()
	defer cancel()
	o, err := t.svc.Assign(ctx, sess.claims, in.OrderID, in.DriverID)
	if err != nil {
		fail(ack, t.log, err)
		return
	}
	ok(ack, map[string]any{"order": o})
}
