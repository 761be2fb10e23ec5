package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// upsertDuty keeps the latest change: an older write arriving late (two
// nodes, two sockets) does not undo a newer one.
const upsertDuty = `INSERT INTO drivers (tenant, driver_id, on_duty, updated_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (tenant, driver_id) DO UPDATE SET on_duty = excluded.on_duty, updated_at = excluded.updated_at
	WHERE drivers.updated_at <= excluded.updated_at`

// SetDuty stores whether driverID is on duty as of at and returns the
// stored state (a newer stored change wins over this one).
func (s *Store) SetDuty(ctx context.Context, tenant, driverID string, onDuty bool, at time.Time) (orders.Duty, error) {
	defer s.timed("set_duty", time.Now())
	if strings.IndexByte(tenant, 0) >= 0 || strings.IndexByte(driverID, 0) >= 0 {
		return orders.Duty{}, orders.Errorf(orders.CodeInvalidArgument, "driver id must not contain NUL bytes")
	}
	var d orders.Duty
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, s.d.q(upsertDuty), tenant, driverID, s.d.boolArg(onDuty), s.d.timeArg(stamp(at))); err != nil {
			return err
		}
		var err error
		d, err = s.duty(ctx, tx, tenant, driverID)
		return err
	})
	if err != nil {
		return orders.Duty{}, fmt.Errorf("set duty: %w", err)
	}
	return d, nil
}

// Duty returns driverID's stored duty; a driver never stored is off duty.
func (s *Store) Duty(ctx context.Context, tenant, driverID string) (orders.Duty, error) {
	defer s.timed("duty", time.Now())
	d, err := s.duty(ctx, s.r, tenant, driverID)
	if err != nil {
		return orders.Duty{}, fmt.Errorf("get duty: %w", err)
	}
	return d, nil
}

func (s *Store) duty(ctx context.Context, q querier, tenant, driverID string) (orders.Duty, error) {
	d := orders.Duty{Tenant: tenant, DriverID: driverID}
	err := s.queryRow(ctx, q, s.d.q(`SELECT on_duty, updated_at FROM drivers WHERE tenant = ? AND driver_id = ?`),
		tenant, driverID).Scan(boolCol{&d.OnDuty}, timeCol{&d.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	}
	return d, err
}

// OnDutyDrivers returns every on-duty driver of every tenant, by tenant
// then driver id: what a starting node loads.
func (s *Store) OnDutyDrivers(ctx context.Context) ([]orders.Duty, error) {
	defer s.timed("on_duty_drivers", time.Now())
	rows, err := s.query(ctx, s.r, s.d.q(`SELECT tenant, driver_id, updated_at FROM drivers
		WHERE on_duty = ? ORDER BY tenant, driver_id`), s.d.boolArg(true))
	if err != nil {
		return nil, fmt.Errorf("list on-duty drivers: %w", err)
	}
	defer rows.Close()
	var list []orders.Duty
	for rows.Next() {
		d := orders.Duty{OnDuty: true}
		if err := rows.Scan(&d.Tenant, &d.DriverID, timeCol{&d.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("list on-duty drivers: %w", err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list on-duty drivers: %w", err)
	}
	return list, nil
}

// ActiveOrders returns the tenant's orders driverID carries or is to
// pick up (assigned, picked_up, in_transit), oldest first: what its
// position is shown on.
func (s *Store) ActiveOrders(ctx context.Context, tenant, driverID string) ([]orders.Order, error) {
	defer s.timed("active_orders", time.Now())
	rows, err := s.query(ctx, s.r, s.d.q(`SELECT `+orderColumns+` FROM orders
		WHERE tenant = ? AND driver_id = ? AND status IN (?, ?, ?) ORDER BY id LIMIT ?`),
		tenant, driverID, string(orders.Assigned), string(orders.PickedUp), string(orders.InTransit), maxListLimit)
	if err != nil {
		return nil, fmt.Errorf("list active orders: %w", err)
	}
	defer rows.Close()
	var list []orders.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("list active orders: %w", err)
		}
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list active orders: %w", err)
	}
	return list, nil
}

// boolCol scans a boolean column of either dialect (SQLite: 0 or 1).
type boolCol struct{ b *bool }

func (c boolCol) Scan(src any) error {
	switch v := src.(type) {
	case bool:
		*c.b = v
	case int64:
		*c.b = v != 0
	default:
		return fmt.Errorf("scan bool from %T", src)
	}
	return nil
}
