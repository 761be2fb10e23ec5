package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// upsertCursorsUnnest saves any number of cursors in one statement of a
// fixed text: PostgreSQL prepares it once per connection. The multi-row
// VALUES form had a different text for every count of recipients that
// acked within a flush interval (20 flushes a second), so nearly every
// flush prepared and planned a statement of up to 3,000 parameters anew.
// unnest yields the rows in array order, so they are still locked in key
// order and two nodes' saves cannot deadlock.
const upsertCursorsUnnest = `INSERT INTO recipient_cursors (tenant, role, user_id, pos, seq, updated_at)
	SELECT c.tenant, c.role, c.user_id, c.pos, c.seq, $6
	FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS c(tenant, role, user_id, pos, seq)` +
	upsertCursorsConflict

// saveCursorsUnnest is SaveCursors' PostgreSQL statement: ids sorted,
// their cursors as column arrays.
func (s *Store) saveCursorsUnnest(ctx context.Context, tx *sql.Tx, ids []delivery.RecipientID,
	cursors map[delivery.RecipientID]delivery.Cursor, now any) error {
	tenants := make([]string, len(ids))
	roles := make([]string, len(ids))
	users := make([]string, len(ids))
	poss := make([]int64, len(ids))
	seqs := make([]int64, len(ids))
	for i, id := range ids {
		pos, seq, err := cursorArgs(cursors[id])
		if err != nil {
			return fmt.Errorf("save cursors: %s/%s/%s: %w", id.Tenant, id.Role, id.User, err)
		}
		tenants[i], roles[i], users[i], poss[i], seqs[i] = id.Tenant, id.Role, id.User, pos, seq
	}
	if _, err := tx.ExecContext(ctx, upsertCursorsUnnest, tenants, roles, users, poss, seqs, now); err != nil {
		return fmt.Errorf("save cursors: %w", err)
	}
	return nil
}
