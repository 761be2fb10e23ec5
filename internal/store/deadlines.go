package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Deadline is a pending order deadline (see package deadline).
type Deadline = deadline.Deadline

const (
	upsertDeadline = `INSERT INTO order_deadlines
	(tenant, order_id, kind, due_at, round, payload, token, lease_owner, lease_until)
	VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)
	ON CONFLICT (tenant, order_id, kind) DO UPDATE SET
	due_at = excluded.due_at, round = excluded.round, payload = excluded.payload,
	token = excluded.token, lease_owner = NULL, lease_until = NULL`
	deleteDeadline = `DELETE FROM order_deadlines WHERE tenant = ? AND order_id = ? AND kind = ?`
	// completeDeadline deletes only the claimed version of the deadline:
	// one set again meanwhile has a new token and no lease, and survives.
	completeDeadline = `DELETE FROM order_deadlines
	WHERE tenant = ? AND order_id = ? AND kind = ? AND token = ? AND lease_owner = ?`
	deadlineColumns = `tenant, order_id, kind, due_at, round, payload, token, lease_until`
)

// SetDeadline stores d, replacing the order's deadline of the same kind
// (and any claim of it). It returns d as stored, with its new token.
func (s *Store) SetDeadline(ctx context.Context, d Deadline) (Deadline, error) {
	defer s.timed("set_deadline", time.Now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		d, err = s.setDeadline(ctx, tx, d)
		return err
	})
	return d, err
}

func (s *Store) setDeadline(ctx context.Context, tx *sql.Tx, d Deadline) (Deadline, error) {
	if err := checkDeadline(d); err != nil {
		return Deadline{}, err
	}
	d.DueAt, d.Token, d.LeaseUntil = stamp(d.DueAt), orders.NewID(), time.Time{}
	if _, err := s.exec(ctx, tx, s.d.q(upsertDeadline), d.Tenant, d.OrderID, d.Kind,
		s.d.timeArg(d.DueAt), d.Round, d.Payload, d.Token); err != nil {
		return Deadline{}, fmt.Errorf("set deadline: %w", err)
	}
	return d, nil
}

// checkDeadline refuses what a backend would store differently or not at
// all: NUL bytes (PostgreSQL rejects them in text), no kind, no due time.
func checkDeadline(d Deadline) error {
	if d.Kind == "" || d.Tenant == "" || d.OrderID == "" || d.DueAt.IsZero() {
		return orders.Errorf(orders.CodeInvalidArgument, "a deadline needs a tenant, an order, a kind and a due time")
	}
	for _, v := range []string{d.Tenant, d.OrderID, d.Kind, d.Payload} {
		if strings.IndexByte(v, 0) >= 0 {
			return orders.Errorf(orders.CodeInvalidArgument, "a deadline must not contain NUL bytes")
		}
	}
	return nil
}

// ClearDeadline deletes the order's deadline of this kind, claimed or not;
// a missing one is no error.
func (s *Store) ClearDeadline(ctx context.Context, tenant, orderID, kind string) error {
	defer s.timed("clear_deadline", time.Now())
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.clearDeadline(ctx, tx, tenant, orderID, kind)
	})
}

func (s *Store) clearDeadline(ctx context.Context, tx *sql.Tx, tenant, orderID, kind string) error {
	if _, err := s.exec(ctx, tx, s.d.q(deleteDeadline), tenant, orderID, kind); err != nil {
		return fmt.Errorf("clear deadline: %w", err)
	}
	return nil
}

// ClaimDueDeadlines leases to owner, until now+lease, up to limit
// deadlines due at now whose lease is free or has lapsed, and returns
// them, earliest first. Each is claimed by one caller only, whichever
// node it runs on: on PostgreSQL, FOR UPDATE SKIP LOCKED makes concurrent
// claimers pass over the rows another has locked instead of queueing
// behind it and then finding them taken (READ COMMITTED re-reads a
// locked row after the wait but not the subquery's LIMIT); on SQLite the
// one writer runs claims one after the other.
func (s *Store) ClaimDueDeadlines(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Deadline, error) {
	defer s.timed("claim_deadlines", time.Now())
	if limit <= 0 || lease <= 0 || owner == "" || strings.IndexByte(owner, 0) >= 0 {
		return nil, orders.Errorf(orders.CodeInvalidArgument, "claim deadlines needs an owner, a lease and a limit")
	}
	now = stamp(now)
	q := s.d.q(`UPDATE order_deadlines SET lease_owner = ?, lease_until = ?
	WHERE (tenant, order_id, kind) IN (
		SELECT tenant, order_id, kind FROM order_deadlines
		WHERE due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
		ORDER BY due_at LIMIT ?` + s.d.skipLocked + `)
	RETURNING ` + deadlineColumns)
	var out []Deadline
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, q, owner, s.d.timeArg(now.Add(lease)),
			s.d.timeArg(now), s.d.timeArg(now), limit)
		if err != nil {
			return fmt.Errorf("claim deadlines: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var d Deadline
			if err := rows.Scan(&d.Tenant, &d.OrderID, &d.Kind, timeCol{&d.DueAt}, &d.Round, &d.Payload,
				&d.Token, timeCol{&d.LeaseUntil}); err != nil {
				return fmt.Errorf("claim deadlines: %w", err)
			}
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim deadlines: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// RETURNING promises no order.
	slices.SortFunc(out, func(a, b Deadline) int { return a.DueAt.Compare(b.DueAt) })
	return out, nil
}

// CompleteDeadline deletes a deadline that owner claimed and acted on. It
// reports false, deleting nothing, when the deadline is no longer that
// claim: set again meanwhile (the new one stands), cleared, or claimed by
// another node after owner's lease lapsed.
func (s *Store) CompleteDeadline(ctx context.Context, d Deadline, owner string) (bool, error) {
	defer s.timed("complete_deadline", time.Now())
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, s.d.q(completeDeadline), d.Tenant, d.OrderID, d.Kind, d.Token, owner)
		if err != nil {
			return fmt.Errorf("complete deadline: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("complete deadline: %w", err)
		}
		return nil
	})
	return n == 1, err
}

// Deadlines lists the order's pending deadlines by kind.
func (s *Store) Deadlines(ctx context.Context, tenant, orderID string) ([]Deadline, error) {
	rows, err := s.query(ctx, s.r, s.d.q(`SELECT `+deadlineColumns+` FROM order_deadlines
		WHERE tenant = ? AND order_id = ? ORDER BY kind`), tenant, orderID)
	if err != nil {
		return nil, fmt.Errorf("list deadlines: %w", err)
	}
	defer rows.Close()
	out := []Deadline{}
	for rows.Next() {
		var d Deadline
		if err := rows.Scan(&d.Tenant, &d.OrderID, &d.Kind, timeCol{&d.DueAt}, &d.Round, &d.Payload,
			&d.Token, optTimeCol{&d.LeaseUntil}); err != nil {
			return nil, fmt.Errorf("list deadlines: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deadlines: %w", err)
	}
	return out, nil
}

// DeadlineChanges are deadlines of an order to set or clear with a change
// of the order (see deadline.Changes).
type DeadlineChanges = deadline.Changes

func checkChanges(dc DeadlineChanges) error {
	for _, d := range dc.Set {
		d.Tenant, d.OrderID = "t", "o" // the order's, checked by the transition
		if err := checkDeadline(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applyDeadlines(ctx context.Context, tx *sql.Tx, tenant, orderID string, dc DeadlineChanges) error {
	for _, kind := range dc.Clear {
		if err := s.clearDeadline(ctx, tx, tenant, orderID, kind); err != nil {
			return err
		}
	}
	for _, d := range dc.Set {
		d.Tenant, d.OrderID = tenant, orderID
		if _, err := s.setDeadline(ctx, tx, d); err != nil {
			return err
		}
	}
	return nil
}

// getDeadline reads the order's deadline of kind through q.
func (s *Store) getDeadline(ctx context.Context, q querier, tenant, orderID, kind string) (Deadline, bool, error) {
	var d Deadline
	err := s.queryRow(ctx, q, s.d.q(`SELECT `+deadlineColumns+` FROM order_deadlines
		WHERE tenant = ? AND order_id = ? AND kind = ?`), tenant, orderID, kind).
		Scan(&d.Tenant, &d.OrderID, &d.Kind, timeCol{&d.DueAt}, &d.Round, &d.Payload, &d.Token, optTimeCol{&d.LeaseUntil})
	if errors.Is(err, sql.ErrNoRows) {
		return Deadline{}, false, nil
	}
	if err != nil {
		return Deadline{}, false, fmt.Errorf("read deadline: %w", err)
	}
	return d, true, nil
}
