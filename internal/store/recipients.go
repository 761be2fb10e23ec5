package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

var _ delivery.Recipients = (*Store)(nil)

// cursorBatch is how many cursors one SaveCursors statement writes: 6
// parameters a row keeps a batch far below both backends' parameter
// limits (32766 on SQLite, 65535 on PostgreSQL).
const cursorBatch = 500

// insertCursorIfAbsent leaves an existing cursor alone, so that of two
// nodes loading a new recipient at once the first insert wins and both
// read the same row back.
const insertCursorIfAbsent = `INSERT INTO recipient_cursors (tenant, role, user_id, pos, seq, updated_at)
	VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, role, user_id) DO NOTHING`

// upsertCursorsConflict makes a save move a cursor only forward. On
// PostgreSQL the WHERE is evaluated against the latest committed row after
// waiting for its lock, so concurrent saves cannot move it back either.
const (
	selectCursor       = `SELECT pos, seq FROM recipient_cursors WHERE tenant = ? AND role = ? AND user_id = ?`
	upsertSubscription = `INSERT INTO recipient_subscriptions
	(tenant, role, user_id, kind, sub_key, from_pos, until_pos, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (tenant, role, user_id, kind, sub_key) DO UPDATE
	SET from_pos = excluded.from_pos, until_pos = excluded.until_pos, updated_at = excluded.updated_at`
)

const upsertCursorsConflict = ` ON CONFLICT (tenant, role, user_id) DO UPDATE
	SET pos = excluded.pos, seq = excluded.seq, updated_at = excluded.updated_at
	WHERE recipient_cursors.pos < excluded.pos`

// LoadRecipient returns the recipient's cursor and its subscriptions in
// (kind, key) order. A recipient without a cursor gets start, unless a
// concurrent call stored another start first: every caller gets the stored
// cursor.
func (s *Store) LoadRecipient(ctx context.Context, id delivery.RecipientID, start delivery.Cursor) (delivery.Cursor, []delivery.Subscription, error) {
	defer s.timed("load_recipient", time.Now())
	// Most loads find the cursor: read first and write only for a new
	// recipient, so that reconnects do not queue on SQLite's one writer.
	c, found, err := s.cursor(ctx, s.r, id)
	if err != nil {
		return delivery.Cursor{}, nil, err
	}
	if !found {
		c, err = s.createCursor(ctx, id, start)
		if err != nil {
			return delivery.Cursor{}, nil, err
		}
	}
	subs, err := s.subscriptions(ctx, id)
	if err != nil {
		return delivery.Cursor{}, nil, err
	}
	return c, subs, nil
}

// createCursor stores start as the recipient's cursor if it has none and
// returns the stored one.
func (s *Store) createCursor(ctx context.Context, id delivery.RecipientID, start delivery.Cursor) (delivery.Cursor, error) {
	pos, seq, err := cursorArgs(start)
	if err != nil {
		return delivery.Cursor{}, fmt.Errorf("create cursor: %w", err)
	}
	var (
		c     delivery.Cursor
		found bool
	)
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, s.d.q(insertCursorIfAbsent),
			id.Tenant, id.Role, id.User, pos, seq, s.d.timeArg(stamp(time.Now()))); err != nil {
			return fmt.Errorf("create cursor: %w", err)
		}
		// Read back in the writer's transaction, which sees the row
		// whoever inserted it.
		c, found, err = s.cursor(ctx, tx, id)
		return err
	})
	if err != nil {
		return delivery.Cursor{}, err
	}
	if !found {
		// Only a concurrent delete could do this, and nothing deletes
		// cursors.
		return delivery.Cursor{}, fmt.Errorf("create cursor: %w", sql.ErrNoRows)
	}
	return c, nil
}

// cursor reads the recipient's cursor; found is false when it has none.
func (s *Store) cursor(ctx context.Context, q querier, id delivery.RecipientID) (c delivery.Cursor, found bool, err error) {
	var pos, seq int64
	err = s.queryRow(ctx, q,
		s.d.q(selectCursor),
		id.Tenant, id.Role, id.User).Scan(&pos, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return delivery.Cursor{}, false, nil
	}
	if err != nil {
		return delivery.Cursor{}, false, fmt.Errorf("load cursor: %w", err)
	}
	if c.Pos, err = fromColumn(pos); err != nil {
		return delivery.Cursor{}, false, fmt.Errorf("load cursor pos: %w", err)
	}
	if c.Seq, err = fromColumn(seq); err != nil {
		return delivery.Cursor{}, false, fmt.Errorf("load cursor seq: %w", err)
	}
	return c, true, nil
}

// subscriptions lists the recipient's subscriptions, ended ones included,
// in (kind, key) order; kind and key compare bytewise on both backends.
func (s *Store) subscriptions(ctx context.Context, id delivery.RecipientID) ([]delivery.Subscription, error) {
	rows, err := s.query(ctx, s.r, s.d.q(`SELECT kind, sub_key, from_pos, until_pos
		FROM recipient_subscriptions WHERE tenant = ? AND role = ? AND user_id = ?
		ORDER BY kind, sub_key`), id.Tenant, id.Role, id.User)
	if err != nil {
		return nil, fmt.Errorf("load subscriptions: %w", err)
	}
	defer rows.Close()
	subs := []delivery.Subscription{}
	for rows.Next() {
		var (
			sub         delivery.Subscription
			from, until int64
		)
		if err := rows.Scan(&sub.Kind, &sub.Key, &from, &until); err != nil {
			return nil, fmt.Errorf("load subscriptions: %w", err)
		}
		if sub.From, err = fromColumn(from); err != nil {
			return nil, fmt.Errorf("load subscription %s %q: %w", sub.Kind, sub.Key, err)
		}
		if sub.Until, err = fromColumn(until); err != nil {
			return nil, fmt.Errorf("load subscription %s %q: %w", sub.Kind, sub.Key, err)
		}
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load subscriptions: %w", err)
	}
	return subs, nil
}

// SaveCursors stores the cursors in one transaction, inserting those of
// new recipients. A stored cursor only moves forward: a save whose Pos is
// not greater than the stored one leaves that row unchanged.
func (s *Store) SaveCursors(ctx context.Context, cursors map[delivery.RecipientID]delivery.Cursor) error {
	defer s.timed("save_cursors", time.Now())
	if len(cursors) == 0 {
		return nil
	}
	// Rows are written in key order so that two nodes saving overlapping
	// sets lock the rows in the same order and cannot deadlock on
	// PostgreSQL (map order is random).
	ids := make([]delivery.RecipientID, 0, len(cursors))
	for id := range cursors {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareRecipients)

	now := s.d.timeArg(stamp(time.Now()))
	args := make([]any, 0, 6*min(len(ids), cursorBatch))
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if s.d.name == "postgres" {
			return s.saveCursorsUnnest(ctx, tx, ids, cursors, now)
		}
		for batch := range slices.Chunk(ids, cursorBatch) {
			args = args[:0]
			for _, id := range batch {
				pos, seq, err := cursorArgs(cursors[id])
				if err != nil {
					return fmt.Errorf("save cursors: %s/%s/%s: %w", id.Tenant, id.Role, id.User, err)
				}
				args = append(args, id.Tenant, id.Role, id.User, pos, seq, now)
			}
			if _, err := tx.ExecContext(ctx, s.d.q(upsertCursors(len(batch))), args...); err != nil {
				return fmt.Errorf("save cursors: %w", err)
			}
		}
		return nil
	})
}

// upsertCursors is the statement that saves n cursors.
func upsertCursors(n int) string {
	const row = `(?, ?, ?, ?, ?, ?)`
	var b strings.Builder
	b.Grow(100 + n*(len(row)+2) + len(upsertCursorsConflict))
	b.WriteString(`INSERT INTO recipient_cursors (tenant, role, user_id, pos, seq, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(upsertCursorsConflict)
	return b.String()
}

func compareRecipients(a, b delivery.RecipientID) int {
	return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.Role, b.Role), strings.Compare(a.User, b.User))
}

// PutSubscription creates the recipient's subscription of sub.Kind and
// sub.Key, or replaces its From and Until.
func (s *Store) PutSubscription(ctx context.Context, id delivery.RecipientID, sub delivery.Subscription) error {
	defer s.timed("put_subscription", time.Now())
	from, err := toColumn(sub.From)
	if err != nil {
		return fmt.Errorf("put subscription %s %q: from: %w", sub.Kind, sub.Key, err)
	}
	until, err := toColumn(sub.Until)
	if err != nil {
		return fmt.Errorf("put subscription %s %q: until: %w", sub.Kind, sub.Key, err)
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, s.d.q(upsertSubscription),
			id.Tenant, id.Role, id.User, sub.Kind, sub.Key, from, until, s.d.timeArg(stamp(time.Now()))); err != nil {
			return fmt.Errorf("put subscription %s %q: %w", sub.Kind, sub.Key, err)
		}
		return nil
	})
}

// PurgeSubscriptions deletes ended subscriptions (Until not zero) last
// written before before; it returns how many it removed. Open
// subscriptions are kept however old.
func (s *Store) PurgeSubscriptions(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.execRows(ctx, `DELETE FROM recipient_subscriptions WHERE until_pos <> 0 AND updated_at < ?`,
		s.d.timeArg(stamp(before)))
	if err != nil {
		return 0, fmt.Errorf("purge subscriptions: %w", err)
	}
	return n, nil
}

// cursorArgs converts a cursor to its column values.
func cursorArgs(c delivery.Cursor) (pos, seq int64, err error) {
	if pos, err = toColumn(c.Pos); err != nil {
		return 0, 0, fmt.Errorf("pos: %w", err)
	}
	if seq, err = toColumn(c.Seq); err != nil {
		return 0, 0, fmt.Errorf("seq: %w", err)
	}
	return pos, seq, nil
}

// toColumn converts a log position or sequence number to the signed
// 64-bit column that stores it, refusing what would wrap negative.
func toColumn(v uint64) (int64, error) {
	if v > math.MaxInt64 {
		return 0, fmt.Errorf("%d: %w", v, ErrOutOfRange)
	}
	return int64(v), nil
}

// fromColumn is the inverse of toColumn; a negative value was not written
// by this package.
func fromColumn(v int64) (uint64, error) {
	if v < 0 {
		return 0, fmt.Errorf("%d: %w", v, ErrOutOfRange)
	}
	return uint64(v), nil
}
