package dispatch

import (
	"context"
	"encoding/json"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// actionRequest is the payload of the events that act on one order with
// arguments: order:unassign, order:reject, order:failed { orderId,
// reason? } and order:delivered { orderId, proof?: { pin } }.
type actionRequest struct {
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
	// Proof is any JSON: v1 accepted any proof and ignored it, and still
	// does for an order without a PIN. See pin.
	Proof json.RawMessage `json:"proof"`
}

// pin is the proof's { pin } when it has one: any other proof carries no
// PIN, which a PIN order then refuses as not matching.
func (r actionRequest) pin() string {
	var p struct {
		PIN string `json:"pin"`
	}
	if len(r.Proof) > 0 && r.Proof[0] == '{' {
		_ = json.Unmarshal(r.Proof, &p) // a non-string pin is no PIN
	}
	return p.PIN
}

// decodeActionRequest reads an actionRequest with a well-formed orderId.
func decodeActionRequest(m *transport.Message) (actionRequest, error) {
	var in actionRequest
	if err := decode(m, &in); err != nil {
		return in, err
	}
	return in, orders.CheckID(in.OrderID)
}

// request handles an event that moves one order with arguments: the
// driver's unhappy paths and the delivery with its proof.
func (t *Handlers) request(a orders.Action) eventFunc {
	return func(_ *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		in, err := decodeActionRequest(m)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		ctx, cancel := t.ctx()
		defer cancel()
		o, err := t.svc.Perform(ctx, sess.claims, in.OrderID, orders.Request{Action: a, Reason: in.Reason, PIN: in.pin()})
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		ok(ack, map[string]any{"order": o})
	}
}

// decline is pickup:decline { orderId, reason? }: the driver turns down
// an offer of the nearest strategy.
func (t *Handlers) decline(_ *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
	in, err := decodeActionRequest(m)
	if err != nil {
		fail(ack, t.log, err)
		return
	}
	if len(in.Reason) > orders.MaxReasonLen {
		fail(ack, t.log, orders.Errorf(orders.CodeInvalidArgument, "reason is longer than %d bytes", orders.MaxReasonLen))
		return
	}
	ctx, cancel := t.ctx()
	defer cancel()
	if err := t.svc.Decline(ctx, sess.claims, in.OrderID); err != nil {
		fail(ack, t.log, err)
		return
	}
	// The reason is for the operator's eyes: the log, not the order.
	t.log.Debug("offer declined", zap.String("tenant_id", sess.claims.Tenant), zap.String("driver_id", sess.claims.Subject),
		zap.String("order_id", in.OrderID), zap.String("reason", in.Reason))
	ok(ack, nil)
}

// The dispatcher's actions, for the /dispatchers namespace to call: each
// is orders.Decide's rule for the dispatcher role, on any order of the
// caller's tenant.

// Assign gives a ready order to driverID.
func (s *Service) Assign(ctx context.Context, c auth.Claims, orderID, driverID string) (orders.Order, error) {
	return s.Perform(ctx, c, orderID, orders.Request{Action: orders.ActionAssign, DriverID: driverID})
}

// Unassign takes an assigned order back from its driver before pickup.
func (s *Service) Unassign(ctx context.Context, c auth.Claims, orderID, reason string) (orders.Order, error) {
	return s.Perform(ctx, c, orderID, orders.Request{Action: orders.ActionUnassign, Reason: reason})
}

// Cancel cancels a ready or assigned order, whichever vendor posted it.
func (s *Service) Cancel(ctx context.Context, c auth.Claims, orderID, reason string) (orders.Order, error) {
	return s.Perform(ctx, c, orderID, orders.Request{Action: orders.ActionCancel, Reason: reason})
}
