package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// OutboxEntry is a committed change not yet marked as published.
type OutboxEntry = delivery.OutboxEntry

var _ delivery.Outbox = (*Store)(nil)

const insertOutbox = `INSERT INTO outbox
	(event_id, tenant, order_id, payload, created_at) VALUES (?, ?, ?, ?, ?)`

// insertChange records ev in the order's log and queues the change for
// the broker, inside the caller's transaction: the change, its log entry
// and its announcement commit together or not at all.
func (s *Store) insertChange(ctx context.Context, tx *sql.Tx, o orders.Order, ev orders.Event) error {
	if err := s.insertEvent(ctx, tx, o.Tenant, ev); err != nil {
		return err
	}
	payload, err := json.Marshal(orders.Change{Order: o, Event: ev})
	if err != nil {
		return fmt.Errorf("encode change: %w", err)
	}
	if _, err := s.exec(ctx, tx, s.d.q(insertOutbox),
		ev.ID, o.Tenant, o.ID, string(payload), s.d.timeArg(ev.At)); err != nil {
		return fmt.Errorf("insert outbox: %w", err)
	}
	return nil
}

// PendingOutbox returns up to limit unsent changes in commit order per
// order (seq order). It reads on the relay's own pool on PostgreSQL, so
// that it does not queue behind the requests, and on SQLite's reader
// pool: every committed row is there, and the one writer stays free.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]OutboxEntry, error) {
	defer s.timed("pending_outbox", time.Now())
	db := s.r
	if s.ob != nil {
		db = s.ob
	}
	rows, err := s.query(ctx, db, s.d.q(`SELECT seq, tenant, order_id, event_id, payload
		FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var payload string
		if err := rows.Scan(&e.Seq, &e.Tenant, &e.OrderID, &e.EventID, &payload); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		e.Payload = []byte(payload)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// MarkSent records that the entries with these seqs were published.
func (s *Store) MarkSent(ctx context.Context, seqs []int64, now time.Time) error {
	defer s.timed("mark_sent", time.Now())
	if len(seqs) == 0 {
		return nil
	}
	args := make([]any, 0, len(seqs)+1)
	args = append(args, s.d.timeArg(stamp(now)))
	for _, q := range seqs {
		args = append(args, q)
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(seqs)), ",")
	query := `UPDATE outbox SET sent_at = ? WHERE seq IN (` + marks + `)`
	var err error
	if s.ob != nil {
		// One statement commits on its own: no transaction, and the
		// relay's pool rather than the requests' one.
		_, err = s.ob.ExecContext(ctx, s.d.q(query), args...)
	} else {
		_, err = s.execRows(ctx, query, args...)
	}
	if err != nil {
		return fmt.Errorf("mark outbox sent: %w", err)
	}
	return nil
}

// PurgeOutbox deletes entries published before before; it returns how
// many it removed.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.execRows(ctx, `DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?`,
		s.d.timeArg(stamp(before)))
	if err != nil {
		return 0, fmt.Errorf("purge outbox: %w", err)
	}
	return n, nil
}
