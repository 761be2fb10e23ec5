package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// maxDeadlineUpdates bounds UpdateDeadline's compare-and-set attempts.
const maxDeadlineUpdates = 8

// ReplaceDeadline moves an order's deadline on, once: if old is still the
// stored deadline of its kind (same token) and the order still has
// version, it deletes old, stores next (nil: none) and queues notice (nil:
// none) in the outbox, all in one transaction. It reports false, writing
// nothing, when either has changed meanwhile: someone else acted first.
// A notice's event id must be derived from what it announces, so that
// a repeat is ignored.
func (s *Store) ReplaceDeadline(ctx context.Context, old Deadline, version int, next *Deadline, notice *orders.Change) (bool, error) {
	defer s.timed("replace_deadline", time.Now())
	if next != nil {
		next.Tenant, next.OrderID = old.Tenant, old.OrderID
		if err := checkDeadline(*next); err != nil {
			return false, err
		}
	}
	replaced := false
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		replaced, err = s.replaceDeadline(ctx, tx, old, version, next, notice)
		return err
	})
	return replaced && err == nil, err
}

func (s *Store) replaceDeadline(ctx context.Context, tx *sql.Tx, old Deadline, version int, next *Deadline, notice *orders.Change) (bool, error) {
	o, err := s.getOrder(ctx, tx, old.Tenant, old.OrderID)
	if err != nil || o.Version != version {
		return false, err
	}
	res, err := s.exec(ctx, tx, s.d.q(deleteDeadline+` AND token = ?`), old.Tenant, old.OrderID, old.Kind, old.Token)
	if err != nil {
		return false, fmt.Errorf("replace deadline: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	if next != nil {
		if *next, err = s.setDeadline(ctx, tx, *next); err != nil {
			return false, err
		}
	}
	if notice != nil {
		if _, err := s.insertNotice(ctx, tx, *notice); err != nil {
			return false, err
		}
	}
	return true, nil
}

// insertNotice queues a change that is no transition (an offer ring, a
// fallback, a no-driver notice), ignoring a repeat of its event id; it
// returns how many rows it queued (0 for a repeat).
func (s *Store) insertNotice(ctx context.Context, tx *sql.Tx, ch orders.Change) (int64, error) {
	payload, err := json.Marshal(ch)
	if err != nil {
		return 0, fmt.Errorf("encode notice: %w", err)
	}
	res, err := s.exec(ctx, tx, s.d.q(insertOutbox+` ON CONFLICT (event_id) DO NOTHING`),
		ch.Event.ID, ch.Order.Tenant, ch.Order.ID, string(payload), s.d.timeArg(ch.Event.At))
	if err != nil {
		return 0, fmt.Errorf("insert notice: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("insert notice: %w", err)
	}
	return n, nil
}

// UpdateDeadline changes the order's deadline of kind through fn, by
// compare-and-set on its token: fn sees the stored deadline and edits its
// due time, round and payload; the result gets a new token and no lease,
// so that a claim of the old version cannot complete it and it can be
// claimed at once if due. It returns orders.ErrNotFound when the order
// has no such deadline, or fn's error.
func (s *Store) UpdateDeadline(ctx context.Context, tenant, orderID, kind string, fn func(d *Deadline) error) (Deadline, error) {
	defer s.timed("update_deadline", time.Now())
	for range maxDeadlineUpdates {
		d, ok, err := s.getDeadline(ctx, s.r, tenant, orderID, kind)
		if err != nil {
			return Deadline{}, err
		}
		if !ok {
			return Deadline{}, orders.ErrNotFound
		}
		old := d.Token
		if err := fn(&d); err != nil {
			return Deadline{}, err
		}
		d.Tenant, d.OrderID, d.Kind, d.DueAt = tenant, orderID, kind, stamp(d.DueAt)
		if err := checkDeadline(d); err != nil {
			return Deadline{}, err
		}
		d.Token, d.LeaseUntil = orders.NewID(), time.Time{}
		n, err := s.execRows(ctx, `UPDATE order_deadlines SET due_at = ?, round = ?, payload = ?, token = ?,
			lease_owner = NULL, lease_until = NULL WHERE tenant = ? AND order_id = ? AND kind = ? AND token = ?`,
			s.d.timeArg(d.DueAt), d.Round, d.Payload, d.Token, tenant, orderID, kind, old)
		if err != nil {
			return Deadline{}, fmt.Errorf("update deadline: %w", err)
		}
		if n == 1 {
			return d, nil
		}
	}
	return Deadline{}, fmt.Errorf("update deadline of order %s: %w: %w", orderID, ErrContention, orders.ErrConflict)
}
