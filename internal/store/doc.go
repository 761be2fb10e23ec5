// Package store keeps orders and their event logs in a database: SQLite
// embedded in the data directory by default, PostgreSQL when a database URL
// is configured. Both run the same queries through database/sql; a small
// dialect value covers what differs (placeholders, time columns,
// isolation, the migration lock).
//
// Every state change is a compare-and-set on the order's version inside a
// transaction that also appends the matching event, so many nodes may
// share one PostgreSQL database and exactly one of many concurrent claims
// wins.
//
// It also keeps the outbox of order changes and the cursors and
// subscriptions of delivery's durable per-recipient queues; saved cursors
// only move forward.
//
// Schema changes are embedded SQL files under migrations/, applied in
// order by Open.
//
// It imports internal/orders and internal/delivery (for the interfaces
// it implements) and nothing else from internal/.
package store
