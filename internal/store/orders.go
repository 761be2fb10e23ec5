package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Filter narrows ListOrders; empty fields match everything, and Limit is
// 100 by default and at most 1000. It is the domain's orders.Filter, so the
// Store satisfies the interfaces its callers declare with it.
type Filter = orders.Filter

const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// orderColumns is the column list scanOrder reads, in its order.
const orderColumns = `tenant, id, vendor_id, customer_id, driver_id, zone, store,
	pickup_address, pickup_lat, pickup_lng, dropoff_address, dropoff_lat, dropoff_lng,
	items, status, version, created_at, updated_at,
	failure_reason, failed_at, dispatch_strategy, proof, pin, tracking_token`

// insertOrder skips a repeated idempotency key: the row exists already and
// RowsAffected reports 0. A concurrent insert of the same key waits for
// the first one's transaction to end.
const insertOrder = `INSERT INTO orders (` + orderColumns + `, idempotency_key)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (tenant, vendor_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`

// Queries that run inside write transactions, prepared when the store
// opens (see txQueries).
const (
	selectOrder        = `SELECT ` + orderColumns + ` FROM orders WHERE tenant = ? AND id = ?`
	selectOrderVersion = `SELECT version FROM orders WHERE tenant = ? AND id = ?`
	selectOrderByKey   = `SELECT ` + orderColumns + ` FROM orders WHERE tenant = ? AND vendor_id = ? AND idempotency_key = ?`
)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// CreateOrder stores a new ready order posted by vendorID, together with
// its first event, which it returns. With an idempotency key already used
// by this vendor it stores nothing and returns the existing order and a
// nil event.
// now is stored truncated to microseconds, in UTC.
func (s *Store) CreateOrder(ctx context.Context, tenant, vendorID string, n orders.NewOrder, now time.Time) (o orders.Order, created *orders.Event, err error) {
	return s.CreateOrderWithDeadlines(ctx, tenant, vendorID, n, now, DeadlineChanges{})
}

// CreateOrderWithDeadlines is CreateOrder that also sets the new order's
// first deadlines in its transaction (none on an idempotent repeat).
func (s *Store) CreateOrderWithDeadlines(ctx context.Context, tenant, vendorID string, n orders.NewOrder, now time.Time, dc DeadlineChanges) (o orders.Order, created *orders.Event, err error) {
	defer s.timed("create_order", time.Now())
	if err := checkChanges(dc); err != nil {
		return orders.Order{}, nil, err
	}
	if err := refuseNUL(tenant, vendorID, n); err != nil {
		return orders.Order{}, nil, err
	}
	now = stamp(now)
	row, items, err := newOrderRow(tenant, vendorID, n, now)
	if err != nil {
		return orders.Order{}, nil, err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, created = row, nil // set anew on each run (see writeFn)
		res, err := s.exec(ctx, tx, s.d.q(insertOrder),
			o.Tenant, o.ID, o.VendorID, o.CustomerID, nullIfEmpty(o.DriverID), nullIfEmpty(o.Zone), o.Store,
			o.Pickup.Address, o.Pickup.Lat, o.Pickup.Lng, o.Dropoff.Address, o.Dropoff.Lat, o.Dropoff.Lng,
			items, string(o.Status), o.Version, s.d.timeArg(o.CreatedAt), s.d.timeArg(o.UpdatedAt),
			nil, nil, string(o.Dispatch.Strategy), nullIfEmpty(string(o.Proof)), nullIfEmpty(o.PIN),
			o.TrackingToken, nullIfEmpty(n.IdempotencyKey),
		)
		if err != nil {
			return fmt.Errorf("insert order: %w", err)
		}
		rows, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert order: %w", err)
		}
		if rows == 0 {
			existing, err := s.orderByKey(ctx, tx, tenant, vendorID, n.IdempotencyKey)
			if err != nil {
				return err
			}
			o, created = existing, nil
			return nil
		}
		ev := orders.Event{
			ID:      orders.NewID(),
			OrderID: o.ID,
			Status:  o.Status,
			Actor:   orders.Actor{Role: orders.RoleVendor, ID: vendorID},
			At:      now,
			Version: o.Version,
		}
		if err := s.insertChange(ctx, tx, o, ev); err != nil {
			return err
		}
		if err := s.applyDeadlines(ctx, tx, tenant, o.ID, dc); err != nil {
			return err
		}
		created = &ev
		return nil
	})
	if err != nil {
		return orders.Order{}, nil, err
	}
	return o, created, nil
}

// newOrderRow is the order n creates, with its items column.
func newOrderRow(tenant, vendorID string, n orders.NewOrder, now time.Time) (o orders.Order, items any, err error) {
	o = orders.Order{
		ID:         orders.NewID(),
		Tenant:     tenant,
		VendorID:   vendorID,
		CustomerID: n.CustomerID,
		Store:      n.Store,
		Zone:       n.Zone,
		Pickup:     n.Pickup,
		Dropoff:    n.Dropoff,
		Status:     orders.Ready,
		Dispatch:   orders.Dispatch{Strategy: n.StrategyOrDefault()},
		Proof:      n.Proof,
		CreatedAt:  now,
		UpdatedAt:  now,
		Version:    1,
	}
	if len(n.Items) > 0 {
		o.Items = slices.Clone(n.Items)
	}
	items, err = itemsArg(o.Items)
	if err != nil {
		return orders.Order{}, nil, err
	}
	if !o.Dispatch.Strategy.Valid() || !o.Proof.Valid() {
		// Validate refuses these; the store does not store what it
		// could not read back as a known value.
		return orders.Order{}, nil, orders.Errorf(orders.CodeInvalidArgument, "unknown dispatch.strategy or proof")
	}
	if o.Proof == orders.ProofPIN {
		if o.PIN, err = orders.NewPIN(); err != nil {
			return orders.Order{}, nil, err
		}
	}
	if o.TrackingToken, err = orders.NewTrackingToken(); err != nil {
		return orders.Order{}, nil, err
	}
	return o, items, nil
}

// GetOrder returns the tenant's order, or orders.ErrNotFound when there is
// none: another tenant's order looks exactly like a missing one.
func (s *Store) GetOrder(ctx context.Context, tenant, id string) (orders.Order, error) {
	defer s.timed("get_order", time.Now())
	return s.getOrder(ctx, s.r, tenant, id)
}

// orderInTx reads the order inside a write transaction: the cached state
// when the row's version is still the cached one (one column read, no
// decoding), else the whole row.
func (s *Store) orderInTx(ctx context.Context, tx *sql.Tx, tenant, id string) (orders.Order, error) {
	if o, ok := s.oc.get(tenant, id); ok {
		var v int
		err := s.queryRow(ctx, tx, s.d.q(selectOrderVersion), tenant, id).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return orders.Order{}, orders.ErrNotFound
		case err != nil:
			return orders.Order{}, fmt.Errorf("get order version: %w", err)
		case v == o.Version:
			return o, nil
		}
	}
	return s.getOrder(ctx, tx, tenant, id)
}

func (s *Store) getOrder(ctx context.Context, q querier, tenant, id string) (orders.Order, error) {
	row := s.queryRow(ctx, q, s.d.q(selectOrder), tenant, id)
	o, err := scanOrder(row)
	if errors.Is(err, sql.ErrNoRows) {
		return orders.Order{}, orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// OrderByTrackingToken returns the order whose tracking token is token,
// of whichever tenant (tokens are unique across tenants), or
// orders.ErrNotFound.
func (s *Store) OrderByTrackingToken(ctx context.Context, token string) (orders.Order, error) {
	defer s.timed("order_by_tracking_token", time.Now())
	row := s.queryRow(ctx, s.r, s.d.q(`SELECT `+orderColumns+` FROM orders WHERE tracking_token = ?`), token)
	o, err := scanOrder(row)
	if errors.Is(err, sql.ErrNoRows) {
		return orders.Order{}, orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, fmt.Errorf("get order by tracking token: %w", err)
	}
	return o, nil
}

func (s *Store) orderByKey(ctx context.Context, q querier, tenant, vendorID, key string) (orders.Order, error) {
	row := s.queryRow(ctx, q, s.d.q(selectOrderByKey), tenant, vendorID, key)
	o, err := scanOrder(row)
	if err != nil {
		return orders.Order{}, fmt.Errorf("get order by idempotency key: %w", err)
	}
	return o, nil
}

// ListOrders returns the tenant's orders matching f, oldest first (ids are
// UUIDv7, so id order is creation order).
func (s *Store) ListOrders(ctx context.Context, tenant string, f Filter) ([]orders.Order, error) {
	defer s.timed("list_orders", time.Now())
	where := []string{"tenant = ?"}
	args := []any{tenant}
	for _, c := range []struct {
		column, value string
	}{
		{"vendor_id", f.VendorID},
		{"customer_id", f.CustomerID},
		{"driver_id", f.DriverID},
		{"zone", f.Zone},
		{"status", string(f.Status)},
	} {
		if c.value != "" {
			where = append(where, c.column+" = ?")
			args = append(args, c.value)
		}
	}
	if f.WithoutDeadline != "" {
		where = append(where, `NOT EXISTS (SELECT 1 FROM order_deadlines d
			WHERE d.tenant = orders.tenant AND d.order_id = orders.id AND d.kind = ?)`)
		args = append(args, f.WithoutDeadline)
	}
	if f.After != "" {
		where = append(where, "id > ?")
		args = append(args, f.After)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultListLimit
	case limit > maxListLimit:
		limit = maxListLimit
	}
	args = append(args, limit)

	rows, err := s.query(ctx, s.r, s.d.q(`SELECT `+orderColumns+` FROM orders WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	list := []orders.Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("list orders: %w", err)
		}
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return list, nil
}

// scanOrder reads one row of orderColumns.
func scanOrder(row interface{ Scan(dest ...any) error }) (orders.Order, error) {
	var (
		o                   orders.Order
		driver, zone, items sql.NullString
		failure, proof, pin sql.NullString
		tracking            sql.NullString
		status, strategy    string
		failedAt            time.Time
	)
	err := row.Scan(&o.Tenant, &o.ID, &o.VendorID, &o.CustomerID, &driver, &zone, &o.Store,
		&o.Pickup.Address, &o.Pickup.Lat, &o.Pickup.Lng, &o.Dropoff.Address, &o.Dropoff.Lat, &o.Dropoff.Lng,
		&items, &status, &o.Version, timeCol{&o.CreatedAt}, timeCol{&o.UpdatedAt},
		&failure, optTimeCol{&failedAt}, &strategy, &proof, &pin, &tracking)
	if err != nil {
		return orders.Order{}, err
	}
	o.DriverID, o.Zone, o.Status = driver.String, zone.String, orders.Status(status)
	o.Dispatch.Strategy, o.Proof, o.PIN = orders.Strategy(strategy), orders.Proof(proof.String), pin.String
	o.TrackingToken = tracking.String
	if failure.Valid {
		o.Failure = &orders.Failure{Reason: orders.FailureReason(failure.String), At: failedAt}
	}
	if items.String != "" {
		if err := json.Unmarshal([]byte(items.String), &o.Items); err != nil {
			return orders.Order{}, fmt.Errorf("decode items of order %s: %w", o.ID, err)
		}
		if len(o.Items) == 0 {
			o.Items = nil
		}
	}
	return o, nil
}

// itemsArg encodes items as a JSON array, or NULL when there are none.
func itemsArg(items []orders.Item) (any, error) {
	if len(items) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("encode items: %w", err)
	}
	return string(b), nil
}
