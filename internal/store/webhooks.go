package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

var _ webhooks.Store = (*Store)(nil)

const webhookColumns = `id, tenant, vendor_id, url, events, secret, status, pos, failing_since, disabled_at,
	disabled_reason, created_at`

const deliveryColumns = `id, endpoint_id, msg_id, type, order_id, pos, payload, status, attempts, response_status,
	last_error, next_attempt_at, created_at, updated_at`

// CreateWebhook stores a new endpoint.
func (s *Store) CreateWebhook(ctx context.Context, e webhooks.Endpoint) error {
	defer s.timed("create_webhook", time.Now())
	if err := refuseNULs(e.Tenant, e.VendorID, e.URL); err != nil {
		return err
	}
	_, err := s.execRows(ctx, `INSERT INTO webhook_endpoints (id, tenant, vendor_id, url, events, secret, status, pos,
		created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.Tenant, e.VendorID, e.URL,
		strings.Join(e.Events, ","), e.Secret, e.Status, int64(e.Pos), s.d.timeArg(stamp(e.CreatedAt)))
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

// Webhooks returns the owner's endpoints, oldest first.
func (s *Store) Webhooks(ctx context.Context, tenant, vendorID string) ([]webhooks.Endpoint, error) {
	defer s.timed("webhooks", time.Now())
	list, err := s.scanWebhooks(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints
		WHERE tenant = ? AND vendor_id = ? ORDER BY created_at, id`, tenant, vendorID)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return list, nil
}

// Webhook returns one of the owner's endpoints, or webhooks.ErrNotFound.
func (s *Store) Webhook(ctx context.Context, tenant, vendorID, id string) (webhooks.Endpoint, error) {
	defer s.timed("webhook", time.Now())
	list, err := s.scanWebhooks(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints
		WHERE tenant = ? AND vendor_id = ? AND id = ?`, tenant, vendorID, id)
	if err != nil {
		return webhooks.Endpoint{}, fmt.Errorf("get webhook: %w", err)
	}
	if len(list) == 0 {
		return webhooks.Endpoint{}, webhooks.ErrNotFound
	}
	return list[0], nil
}

// DeleteWebhook removes one of the owner's endpoints and its delivery
// log, or returns webhooks.ErrNotFound.
func (s *Store) DeleteWebhook(ctx context.Context, tenant, vendorID, id string) error {
	defer s.timed("delete_webhook", time.Now())
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, s.d.q(`DELETE FROM webhook_endpoints WHERE tenant = ? AND vendor_id = ? AND id = ?`),
			tenant, vendorID, id)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = s.exec(ctx, tx, s.d.q(`DELETE FROM webhook_deliveries WHERE endpoint_id = ?`), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n == 0 {
		return webhooks.ErrNotFound
	}
	return nil
}

// LeaseWebhooks implements webhooks.Store: one UPDATE takes the enabled
// endpoints that are node's or free, so of two nodes racing for one the
// row lock (PostgreSQL) or the single writer (SQLite) lets one win.
func (s *Store) LeaseWebhooks(ctx context.Context, node string, now, until time.Time) ([]webhooks.Endpoint, error) {
	defer s.timed("lease_webhooks", time.Now())
	_, err := s.execRows(ctx, `UPDATE webhook_endpoints SET lease_owner = ?, lease_until = ?
		WHERE status = 'enabled' AND (lease_owner = ? OR lease_owner = '' OR lease_until < ?)`,
		node, s.d.timeArg(stamp(until)), node, s.d.timeArg(stamp(now)))
	if err != nil {
		return nil, fmt.Errorf("lease webhooks: %w", err)
	}
	list, err := s.scanWebhooks(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints
		WHERE lease_owner = ? AND status = 'enabled' ORDER BY id`, node)
	if err != nil {
		return nil, fmt.Errorf("lease webhooks: %w", err)
	}
	return list, nil
}

// ReleaseWebhooks implements webhooks.Store.
func (s *Store) ReleaseWebhooks(ctx context.Context, node string) error {
	defer s.timed("release_webhooks", time.Now())
	if _, err := s.execRows(ctx, `UPDATE webhook_endpoints SET lease_owner = '', lease_until = NULL
		WHERE lease_owner = ?`, node); err != nil {
		return fmt.Errorf("release webhooks: %w", err)
	}
	return nil
}

// SaveWebhookState implements webhooks.Store; the cursor only moves
// forward, so a node that lost its lease cannot move it back.
func (s *Store) SaveWebhookState(ctx context.Context, id string, pos uint64, failingSince *time.Time) error {
	defer s.timed("save_webhook_state", time.Now())
	_, err := s.execRows(ctx, `UPDATE webhook_endpoints SET pos = CASE WHEN pos < ? THEN ? ELSE pos END,
		failing_since = ? WHERE id = ?`, int64(pos), int64(pos), s.optTime(failingSince), id)
	if err != nil {
		return fmt.Errorf("save webhook state: %w", err)
	}
	return nil
}

// DisableWebhook implements webhooks.Store.
func (s *Store) DisableWebhook(ctx context.Context, id string, at time.Time, reason string) error {
	defer s.timed("disable_webhook", time.Now())
	_, err := s.execRows(ctx, `UPDATE webhook_endpoints SET status = 'disabled', disabled_at = ?, disabled_reason = ?,
		lease_owner = '', lease_until = NULL WHERE id = ?`, s.d.timeArg(stamp(at)), reason, id)
	if err != nil {
		return fmt.Errorf("disable webhook: %w", err)
	}
	return nil
}

// EnableWebhook implements webhooks.Store.
func (s *Store) EnableWebhook(ctx context.Context, tenant, vendorID, id string) (webhooks.Endpoint, error) {
	defer s.timed("enable_webhook", time.Now())
	// Only a disabled endpoint changes: an enabled one keeps its failing
	// period (enabling must not restart the disable_after clock). A
	// missing one is Webhook's 404.
	_, err := s.execRows(ctx, `UPDATE webhook_endpoints SET status = 'enabled', disabled_at = NULL,
		disabled_reason = '', failing_since = NULL WHERE tenant = ? AND vendor_id = ? AND id = ? AND status = 'disabled'`,
		tenant, vendorID, id)
	if err != nil {
		return webhooks.Endpoint{}, fmt.Errorf("enable webhook: %w", err)
	}
	return s.Webhook(ctx, tenant, vendorID, id)
}

// upsertAttempt adds one attempt to a delivery, creating it on the first.
// A failed attempt that will be retried (pending) never turns a succeeded
// delivery back: a manual retry may have succeeded while the worker's
// attempt was failing.
const upsertAttempt = `INSERT INTO webhook_deliveries (` + deliveryColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
	ON CONFLICT (endpoint_id, msg_id) DO UPDATE SET
	status = CASE WHEN webhook_deliveries.status = 'succeeded' AND excluded.status = 'pending'
		THEN webhook_deliveries.status ELSE excluded.status END,
	next_attempt_at = CASE WHEN webhook_deliveries.status = 'succeeded' AND excluded.status = 'pending'
		THEN NULL ELSE excluded.next_attempt_at END,
	attempts = webhook_deliveries.attempts + 1, response_status = excluded.response_status,
	last_error = excluded.last_error, updated_at = excluded.updated_at`

// RecordWebhookAttempt implements webhooks.Store and returns the delivery
// as stored after the attempt.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a webhooks.Attempt) (webhooks.Delivery, error) {
	defer s.timed("record_webhook_attempt", time.Now())
	d := a.Delivery
	var out webhooks.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := s.d.timeArg(stamp(a.At))
		if _, err := s.exec(ctx, tx, s.d.q(upsertAttempt), d.ID, d.EndpointID, d.MsgID, d.Type, d.OrderID,
			int64(d.Pos), string(d.Payload), a.Status, a.HTTP, a.Err, s.optTime(a.Next), at, at); err != nil {
			return err
		}
		list, err := s.scanDeliveries(ctx, tx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
			WHERE endpoint_id = ? AND msg_id = ?`, d.EndpointID, d.MsgID)
		if err == nil && len(list) == 1 {
			out = list[0]
		}
		return err
	})
	if err != nil {
		return webhooks.Delivery{}, fmt.Errorf("record webhook attempt: %w", err)
	}
	return out, nil
}

// DeliveredWebhookMessages implements webhooks.Store.
func (s *Store) DeliveredWebhookMessages(ctx context.Context, endpointID string, after uint64) (map[string]bool, error) {
	defer s.timed("delivered_webhook_messages", time.Now())
	rows, err := s.query(ctx, s.r, s.d.q(`SELECT msg_id FROM webhook_deliveries
		WHERE endpoint_id = ? AND pos > ? AND status = 'succeeded'`), endpointID, int64(after))
	if err != nil {
		return nil, fmt.Errorf("delivered webhook messages: %w", err)
	}
	defer rows.Close()
	sent := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("delivered webhook messages: %w", err)
		}
		sent[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delivered webhook messages: %w", err)
	}
	return sent, nil
}

// WebhookDeliveries implements webhooks.Store: newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]webhooks.Delivery, error) {
	defer s.timed("webhook_deliveries", time.Now())
	list, err := s.scanDeliveries(ctx, s.r, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return list, nil
}

// WebhookDelivery implements webhooks.Store.
func (s *Store) WebhookDelivery(ctx context.Context, endpointID, id string) (webhooks.Delivery, error) {
	defer s.timed("webhook_delivery", time.Now())
	list, err := s.scanDeliveries(ctx, s.r, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = ? AND id = ?`, endpointID, id)
	if err != nil {
		return webhooks.Delivery{}, fmt.Errorf("get webhook delivery: %w", err)
	}
	if len(list) == 0 {
		return webhooks.Delivery{}, webhooks.ErrNotFound
	}
	return list[0], nil
}

// DeleteWebhookDeliveries implements webhooks.Store.
func (s *Store) DeleteWebhookDeliveries(ctx context.Context, before time.Time) error {
	defer s.timed("delete_webhook_deliveries", time.Now())
	// A pending one not attempted for a whole retention is dead too (its
	// endpoint was deleted or disabled meanwhile).
	if _, err := s.execRows(ctx, `DELETE FROM webhook_deliveries WHERE updated_at < ?`,
		s.d.timeArg(stamp(before))); err != nil {
		return fmt.Errorf("delete webhook deliveries: %w", err)
	}
	return nil
}

func (s *Store) optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.d.timeArg(stamp(*t))
}

func (s *Store) scanWebhooks(ctx context.Context, query string, args ...any) ([]webhooks.Endpoint, error) {
	rows, err := s.query(ctx, s.r, s.d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []webhooks.Endpoint
	for rows.Next() {
		var (
			e                 webhooks.Endpoint
			events            string
			pos               int64
			failing, disabled time.Time
		)
		if err := rows.Scan(&e.ID, &e.Tenant, &e.VendorID, &e.URL, &events, &e.Secret, &e.Status, &pos,
			optTimeCol{&failing}, optTimeCol{&disabled}, &e.DisabledReason, timeCol{&e.CreatedAt}); err != nil {
			return nil, err
		}
		e.Events, e.Pos = strings.Split(events, ","), uint64(pos)
		e.FailingSince, e.DisabledAt = optTime(failing), optTime(disabled)
		list = append(list, e)
	}
	return list, rows.Err()
}

func (s *Store) scanDeliveries(ctx context.Context, q querier, query string, args ...any) ([]webhooks.Delivery, error) {
	rows, err := s.query(ctx, q, s.d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []webhooks.Delivery
	for rows.Next() {
		var (
			d       webhooks.Delivery
			pos     int64
			payload string
			next    time.Time
		)
		if err := rows.Scan(&d.ID, &d.EndpointID, &d.MsgID, &d.Type, &d.OrderID, &pos, &payload, &d.Status,
			&d.Attempts, &d.ResponseStatus, &d.LastError, optTimeCol{&next}, timeCol{&d.CreatedAt},
			timeCol{&d.UpdatedAt}); err != nil {
			return nil, err
		}
		d.Pos, d.Payload, d.NextAttemptAt = uint64(pos), []byte(payload), optTime(next)
		list = append(list, d)
	}
	return list, rows.Err()
}

// optTime is a nullable column's time, nil for NULL.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// refuseNULs refuses text that neither backend stores faithfully.
func refuseNULs(values ...string) error {
	for _, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			return orders.Errorf(orders.CodeInvalidArgument, "webhook fields must not contain NUL bytes")
		}
	}
	return nil
}
