package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// maxTransitionAttempts bounds the compare-and-set retries. Each lost
// attempt means another transition committed, and a claim that lost once
// is refused on the next read, so a few attempts are plenty.
const maxTransitionAttempts = 10

// Statements of a transition's transaction.
const (
	updateOrder = `UPDATE orders
	SET status = ?, driver_id = ?, version = ?, updated_at = ?, failure_reason = ?, failed_at = ?
	WHERE tenant = ? AND id = ? AND version = ?`
	insertEvent = `INSERT INTO order_events
	(id, tenant, order_id, version, status, driver_id, actor_role, actor_id, at, reason, from_driver_id)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// Transition applies action a by actor to the tenant's order and appends
// the matching event, atomically. It returns the new order and its event;
// or the unchanged order and a nil event when the same actor had already
// done it (a retry); or an *orders.Error from orders.Apply (for instance
// orders.ErrAlreadyClaimed to all but one of many concurrent claims), or
// orders.ErrNotFound. now is stored truncated to microseconds, in UTC.
func (s *Store) Transition(ctx context.Context, tenant, id string, a orders.Action, actor orders.Actor, now time.Time) (orders.Order, *orders.Event, error) {
	return s.Perform(ctx, tenant, id, orders.Request{Action: a, Actor: actor}, now)
}

// Perform is Transition for a request with arguments (orders.Decide): a
// failure reason, the driver a dispatcher assigns, a delivery PIN. A
// failed order's failure time is now.
func (s *Store) Perform(ctx context.Context, tenant, id string, req orders.Request, now time.Time) (orders.Order, *orders.Event, error) {
	return s.PerformPlanned(ctx, tenant, id, req, now, nil)
}

// PerformWithDeadlines is Perform that also sets and clears the order's
// deadlines in the transition's transaction, so that a transition and the
// deadline it starts (or ends) commit together or not at all. They are
// applied only when the order changes: not on a retry nor a refusal.
func (s *Store) PerformWithDeadlines(ctx context.Context, tenant, id string, req orders.Request, now time.Time, dc DeadlineChanges) (orders.Order, *orders.Event, error) {
	if err := checkChanges(dc); err != nil {
		return orders.Order{}, nil, err
	}
	return s.PerformPlanned(ctx, tenant, id, req, now, func(deadline.Transition) (deadline.Plan, error) {
		return deadline.Plan{Changes: dc}, nil
	})
}

// PerformPlanned is Perform where planner (nil: none) decides, inside the
// transition's transaction, the deadlines the change sets and clears and
// who else hears that the order was taken; its error refuses the change.
func (s *Store) PerformPlanned(ctx context.Context, tenant, id string, req orders.Request, now time.Time, planner deadline.Planner) (orders.Order, *orders.Event, error) {
	defer s.timed("transition", time.Now())
	now = stamp(now)
	// A read first: an action the committed state refuses (the claims
	// that lost a race) or has done already (a retry) needs no write
	// transaction, and on SQLite every write transaction queues for the
	// one writer. States only move forward, so what is refused now stays
	// refused; the write transaction checks again anyway. When the cached
	// state would take the action, the read is skipped: the transaction
	// decides on the row it reads. A refusal is never taken from the cache.
	if !s.wouldChange(tenant, id, req) {
		if cur, err := s.getOrder(ctx, s.r, tenant, id); err != nil {
			return orders.Order{}, nil, err
		} else if _, changed, err := orders.Decide(cur, req); err != nil {
			s.oc.put(cur)
			return orders.Order{}, nil, err
		} else if !changed {
			s.oc.put(cur)
			return cur, nil, nil
		}
	}
	for range maxTransitionAttempts {
		o, ev, done, err := s.tryTransition(ctx, tenant, id, req, now, planner)
		if err == nil && done {
			s.oc.put(o)
		}
		if err != nil || done {
			return o, ev, err
		}
		if err := ctx.Err(); err != nil {
			return orders.Order{}, nil, fmt.Errorf("transition order %s: %w", id, err)
		}
		if ce := s.log.Check(zap.DebugLevel, "order changed concurrently, retrying"); ce != nil {
			ce.Write(zap.String("tenant_id", tenant), zap.String("order_id", id), zap.String("event", string(req.Action)))
		}
	}
	return orders.Order{}, nil, fmt.Errorf("transition order %s after %d attempts: %w: %w",
		id, maxTransitionAttempts, ErrContention, orders.ErrConflict)
}

// tryTransition makes one read-apply-write attempt; done is false when the
// compare-and-set lost to a concurrent writer and nothing was written.
func (s *Store) tryTransition(ctx context.Context, tenant, id string, req orders.Request, now time.Time, planner deadline.Planner) (o orders.Order, ev *orders.Event, done bool, err error) {
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, ev, done = orders.Order{}, nil, true // set anew on each run (see writeFn)
		cur, err := s.orderInTx(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		next, changed, err := orders.Decide(cur, req)
		if err != nil {
			return err
		}
		if !changed {
			o = cur
			return nil
		}
		next.UpdatedAt = now
		plan, err := s.plan(ctx, tx, planner, deadline.Transition{Cur: cur, Next: next, Req: req, Now: now})
		if err != nil {
			return err
		}
		failReason, failedAt := s.failureArgs(&next, now)

		res, err := s.exec(ctx, tx, s.d.q(updateOrder),
			string(next.Status), nullIfEmpty(next.DriverID), next.Version, s.d.timeArg(now),
			failReason, failedAt, tenant, id, cur.Version)
		if err != nil {
			return fmt.Errorf("update order: %w", err)
		}
		rows, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update order: %w", err)
		}
		if rows == 0 {
			done = false
			return nil
		}
		e := changeEvent(cur, next, req, now)
		e.Taken, e.Offered = plan.Taken, plan.Offered
		if err := s.insertChange(ctx, tx, next, e); err != nil {
			return err
		}
		if err := s.applyDeadlines(ctx, tx, tenant, id, plan.Changes); err != nil {
			return err
		}
		o, ev = next, &e
		return nil
	})
	if err != nil {
		return orders.Order{}, nil, true, err
	}
	return o, ev, done, nil
}

// wouldChange reports whether the cached state of the order, if there is
// one, takes req: then the transaction is worth queueing for at once.
func (s *Store) wouldChange(tenant, id string, req orders.Request) bool {
	cached, ok := s.oc.get(tenant, id)
	if !ok {
		return false
	}
	_, changed, err := orders.Decide(cached, req)
	return err == nil && changed
}

// plan runs planner (if any) on t inside tx, with the order's deadlines
// read in that transaction.
func (s *Store) plan(ctx context.Context, tx *sql.Tx, planner deadline.Planner, t deadline.Transition) (deadline.Plan, error) {
	if planner == nil {
		return deadline.Plan{}, nil
	}
	t.Lookup = func(kind string) (Deadline, bool, error) {
		return s.getDeadline(ctx, tx, t.Cur.Tenant, t.Cur.ID, kind)
	}
	p, err := planner(t)
	if err != nil {
		return deadline.Plan{}, err
	}
	return p, checkChanges(p.Changes)
}

// failureArgs stamps a new failure with now and returns the failure
// columns' values: NULL for an order that has not failed.
func (s *Store) failureArgs(next *orders.Order, now time.Time) (reason, at any) {
	if next.Failure == nil {
		return nil, nil
	}
	if next.Failure.At.IsZero() {
		next.Failure.At = now
	}
	return string(next.Failure.Reason), s.d.timeArg(next.Failure.At)
}

// changeEvent is the log entry of the change from cur to next by req.
func changeEvent(cur, next orders.Order, req orders.Request, now time.Time) orders.Event {
	e := orders.Event{
		ID:       orders.NewID(),
		OrderID:  next.ID,
		Status:   next.Status,
		DriverID: next.DriverID,
		Reason:   req.Reason,
		Actor:    req.Actor,
		At:       now,
		Version:  next.Version,
	}
	if next.DriverID == "" && cur.DriverID != "" && next.Status == orders.Ready {
		e.FromDriverID = cur.DriverID // unassigned or rejected
	}
	if req.Action == orders.ActionAssign && !req.RespondBy.IsZero() {
		by := stamp(req.RespondBy)
		e.RespondBy = &by
	}
	if req.ETA != nil {
		e.ETASeconds = req.ETA(next)
	}
	return e
}

func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, tenant string, ev orders.Event) error {
	_, err := s.exec(ctx, tx, s.d.q(insertEvent),
		ev.ID, tenant, ev.OrderID, ev.Version, string(ev.Status), nullIfEmpty(ev.DriverID),
		string(ev.Actor.Role), ev.Actor.ID, s.d.timeArg(ev.At), nullIfEmpty(ev.Reason), nullIfEmpty(ev.FromDriverID))
	if err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

// Events returns the order's log in version order: its creation, then each
// transition. It returns orders.ErrNotFound for a missing order or another
// tenant's.
func (s *Store) Events(ctx context.Context, tenant, orderID string) ([]orders.Event, error) {
	defer s.timed("events", time.Now())
	rows, err := s.query(ctx, s.r, s.d.q(`SELECT id, order_id, version, status, driver_id, actor_role, actor_id, at,
		reason, from_driver_id FROM order_events WHERE tenant = ? AND order_id = ? ORDER BY version`), tenant, orderID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	evs := []orders.Event{}
	for rows.Next() {
		var (
			ev                   orders.Event
			driver, reason, from sql.NullString
			status, role         string
		)
		if err := rows.Scan(&ev.ID, &ev.OrderID, &ev.Version, &status, &driver, &role, &ev.Actor.ID, timeCol{&ev.At},
			&reason, &from); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		ev.Status, ev.DriverID, ev.Actor.Role = orders.Status(status), driver.String, orders.Role(role)
		ev.Reason, ev.FromDriverID = reason.String, from.String
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	if len(evs) == 0 {
		// Every order is created with its first event, so an empty log
		// means no such order; checked anyway rather than assumed.
		if _, err := s.getOrder(ctx, s.r, tenant, orderID); err != nil {
			return nil, err
		}
	}
	return evs, nil
}
