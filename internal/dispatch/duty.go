package dispatch

import (
	"context"
	"time"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// DutyStore keeps drivers' duty.
type DutyStore interface {
	SetDuty(ctx context.Context, tenant, driverID string, onDuty bool, at time.Time) (orders.Duty, error)
}

// SetDuty stores whether the calling driver takes work; the newest
// change wins on every node.
func (s *Service) SetDuty(ctx context.Context, c auth.Claims, onDuty bool) (orders.Duty, error) {
	if c.Role != orders.RoleDriver {
		return orders.Duty{}, orders.ErrForbidden
	}
	d, err := s.store.SetDuty(ctx, c.Tenant, c.Subject, onDuty, s.now())
	if err != nil {
		return orders.Duty{}, err
	}
	// Stored: every node's Fleet hears it now, or loads it at its start.
	_ = s.locations.PublishDuty(ctx, d)
	return d, nil
}

// dutyRequest reads driver:duty's { onDuty: bool }; onDuty is required.
func dutyRequest(m *transport.Message) (bool, error) {
	var req struct {
		OnDuty *bool `json:"onDuty"`
	}
	if err := decode(m, &req); err != nil {
		return false, err
	}
	if req.OnDuty == nil {
		return false, orders.Errorf(orders.CodeInvalidArgument, "onDuty is required (true or false)")
	}
	return *req.OnDuty, nil
}

// driverDuty handles driver:duty.
func (t *Handlers) driverDuty(_ *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
	onDuty, err := dutyRequest(m)
	if err != nil {
		fail(ack, t.log, err)
		return
	}
	ctx, cancel := t.ctx()
	defer cancel()
	d, err := t.svc.SetDuty(ctx, sess.claims, onDuty)
	if err != nil {
		fail(ack, t.log, err)
		return
	}
	ok(ack, map[string]any{"onDuty": d.OnDuty})
}
