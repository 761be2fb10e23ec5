package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// NotifyUnassigned queues the auto strategy's notice that no driver could
// take a ready order, once per version of the order: its event id is
// derived from the order's id and version, and a repeat is ignored (the
// outbox keeps sent rows until purged). It reports whether it queued one;
// an order no longer ready gets none.
func (s *Store) NotifyUnassigned(ctx context.Context, tenant, orderID, reason string, now time.Time) (bool, error) {
	defer s.timed("notify_unassigned", time.Now())
	now = stamp(now)
	queued := false
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, err := s.getOrder(ctx, tx, tenant, orderID)
		if err != nil {
			return err
		}
		if o.Status != orders.Ready {
			return nil
		}
		id := uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("dispatchd:%s:%d:unassigned", o.ID, o.Version))).String()
		n, err := s.insertNotice(ctx, tx, orders.Change{Order: o, Unassigned: reason,
			Event: orders.Event{ID: id, OrderID: o.ID, Status: o.Status, At: now, Version: o.Version}})
		if err != nil {
			return err
		}
		queued = n > 0
		return nil
	})
	return queued, err
}
