package main

import (
	"context"
	"time"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
)

// dbTimer records how long a database operation took.
type dbTimer interface {
	DB(op string, d time.Duration)
}

// timedStore is the store as the service, the relay and the queues use
// it, with every call timed for /metrics.
type timedStore struct {
	s *store.Store
	m dbTimer
}

var (
	_ dispatch.Store      = timedStore{}
	_ delivery.Outbox     = timedStore{}
	_ delivery.Recipients = timedStore{}
)

func (t timedStore) since(op string, start time.Time) { t.m.DB(op, time.Since(start)) }

func (t timedStore) CreateOrder(ctx context.Context, tenant, vendorID string, n orders.NewOrder, now time.Time) (orders.Order, *orders.Event, error) {
	defer t.since("create_order", time.Now())
	return t.s.CreateOrder(ctx, tenant, vendorID, n, now)
}

func (t timedStore) GetOrder(ctx context.Context, tenant, id string) (orders.Order, error) {
	defer t.since("get_order", time.Now())
	return t.s.GetOrder(ctx, tenant, id)
}

func (t timedStore) ListOrders(ctx context.Context, tenant string, f orders.Filter) ([]orders.Order, error) {
	defer t.since("list_orders", time.Now())
	return t.s.ListOrders(ctx, tenant, f)
}

func (t timedStore) CarriedOrders(ctx context.Context, tenant, driverID string) ([]string, error) {
	defer t.since("carried_orders", time.Now())
	return t.s.CarriedOrders(ctx, tenant, driverID)
}

func (t timedStore) Transition(ctx context.Context, tenant, id string, a orders.Action, actor orders.Actor, now time.Time) (orders.Order, *orders.Event, error) {
	defer t.since("transition", time.Now())
	return t.s.Transition(ctx, tenant, id, a, actor, now)
}

func (t timedStore) Events(ctx context.Context, tenant, orderID string) ([]orders.Event, error) {
	defer t.since("events", time.Now())
	return t.s.Events(ctx, tenant, orderID)
}

func (t timedStore) PendingOutbox(ctx context.Context, limit int) ([]delivery.OutboxEntry, error) {
	defer t.since("pending_outbox", time.Now())
	return t.s.PendingOutbox(ctx, limit)
}

func (t timedStore) MarkSent(ctx context.Context, seqs []int64, now time.Time) error {
	defer t.since("mark_sent", time.Now())
	return t.s.MarkSent(ctx, seqs, now)
}

func (t timedStore) LoadRecipient(ctx context.Context, id delivery.RecipientID, start delivery.Cursor) (delivery.Cursor, []delivery.Subscription, error) {
	defer t.since("load_recipient", time.Now())
	return t.s.LoadRecipient(ctx, id, start)
}

func (t timedStore) SaveCursors(ctx context.Context, cursors map[delivery.RecipientID]delivery.Cursor) error {
	defer t.since("save_cursors", time.Now())
	return t.s.SaveCursors(ctx, cursors)
}

func (t timedStore) PutSubscription(ctx context.Context, id delivery.RecipientID, sub delivery.Subscription) error {
	defer t.since("put_subscription", time.Now())
	return t.s.PutSubscription(ctx, id, sub)
}
