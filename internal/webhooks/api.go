package webhooks

import (
	"context"
	"fmt"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// maxEndpoints bounds the endpoints of one owner.
const maxEndpoints = 20

// MaxDeliveries is the most deliveries a listing returns, newest first.
const MaxDeliveries = 100

// Owner is whose endpoints a caller manages: a tenant, or one vendor of
// it.
type Owner struct {
	Tenant   string
	VendorID string
}

// Create registers an endpoint that gets the owner's events of the given
// types from now on, and returns it with its secret: the only time the
// secret is shown.
func (s *Sink) Create(ctx context.Context, o Owner, url string, events []string) (Endpoint, error) {
	if err := checkURL(url, s.cfg.AllowPrivate); err != nil {
		return Endpoint{}, err
	}
	if !validTypes(events) {
		return Endpoint{}, orders.Errorf(orders.CodeInvalidArgument,
			"events must list one or more of %v, each once", Types())
	}
	have, err := s.store.Webhooks(ctx, o.Tenant, o.VendorID)
	if err != nil {
		return Endpoint{}, err
	}
	if len(have) >= maxEndpoints {
		return Endpoint{}, orders.Errorf(orders.CodeConflict, "at most %d webhooks; delete one first", maxEndpoints)
	}
	secret, err := newSecret()
	if err != nil {
		return Endpoint{}, err
	}
	// The endpoint hears what is stored after this point.
	pos, err := s.log.LastPos(ctx)
	if err != nil {
		return Endpoint{}, fmt.Errorf("create webhook: %w", err)
	}
	ep := Endpoint{ID: newID(), Tenant: o.Tenant, VendorID: o.VendorID, URL: url, Events: events, Secret: secret,
		Status: StatusEnabled, Pos: pos, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := s.store.CreateWebhook(ctx, ep); err != nil {
		return Endpoint{}, err
	}
	return ep, nil
}

// List returns the owner's endpoints, oldest first.
func (s *Sink) List(ctx context.Context, o Owner) ([]Endpoint, error) {
	return s.store.Webhooks(ctx, o.Tenant, o.VendorID)
}

// Get returns one of the owner's endpoints.
func (s *Sink) Get(ctx context.Context, o Owner, id string) (Endpoint, error) {
	return s.store.Webhook(ctx, o.Tenant, o.VendorID, id)
}

// Delete removes one of the owner's endpoints and its delivery log; the
// node sending for it stops within Poll.
func (s *Sink) Delete(ctx context.Context, o Owner, id string) error {
	return s.store.DeleteWebhook(ctx, o.Tenant, o.VendorID, id)
}

// Enable turns a disabled endpoint back on where it stopped: a node takes
// it within Poll and sends what came since its cursor (what expired from
// the log meanwhile is counted and logged as unread). Enabling an enabled
// endpoint changes nothing.
func (s *Sink) Enable(ctx context.Context, o Owner, id string) (Endpoint, error) {
	return s.store.EnableWebhook(ctx, o.Tenant, o.VendorID, id)
}

// Deliveries returns the latest deliveries of one of the owner's
// endpoints, newest first, at most limit (MaxDeliveries).
func (s *Sink) Deliveries(ctx context.Context, o Owner, id string, limit int) ([]Delivery, error) {
	if _, err := s.store.Webhook(ctx, o.Tenant, o.VendorID, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxDeliveries {
		limit = MaxDeliveries
	}
	return s.store.WebhookDeliveries(ctx, id, limit)
}

// Retry sends a delivery again now, once, whatever its status and the
// endpoint's, and returns it as stored after the attempt. A message still
// being retried keeps being retried until one attempt succeeds.
func (s *Sink) Retry(ctx context.Context, o Owner, id, deliveryID string) (Delivery, error) {
	ep, err := s.store.Webhook(ctx, o.Tenant, o.VendorID, id)
	if err != nil {
		return Delivery{}, err
	}
	d, err := s.store.WebhookDelivery(ctx, id, deliveryID)
	if err != nil {
		return Delivery{}, err
	}
	now := time.Now()
	r := s.sender.send(ctx, &ep, d.MsgID, d.Payload, now)
	if err := ctx.Err(); err != nil {
		return Delivery{}, err
	}
	a := Attempt{Delivery: d, HTTP: r.status, At: now, Status: d.Status}
	switch {
	case r.err == nil:
		a.Status = DeliverySucceeded
	case d.Status == DeliverySucceeded:
		// A receiver that lost it and fails now: nobody retries it.
		a.Status = DeliveryFailed
	}
	if r.err != nil {
		a.Err = errText(r.err)
	}
	a.Next = d.NextAttemptAt
	stored, err := s.store.RecordWebhookAttempt(ctx, a)
	if err != nil {
		return Delivery{}, fmt.Errorf("record retry: %w", err)
	}
	return stored, nil
}
