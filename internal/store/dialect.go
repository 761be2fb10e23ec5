package store

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dialect holds what differs between the backends; queries are written
// once, with ? placeholders.
type dialect struct {
	name string
	// numbered rewrites ? placeholders to $1, $2, ... (PostgreSQL).
	numbered bool
	// timeArg turns a UTC, microsecond time into the value bound to a
	// time column.
	timeArg func(time.Time) any
	// txOpts are the options of write transactions.
	txOpts *sql.TxOptions
	// migrationsDDL creates the schema_migrations table if it is missing.
	migrationsDDL string
	// lockMigrations, when set, runs first in the migration transaction so
	// that nodes starting together apply migrations one at a time.
	lockMigrations string
	// skipLocked ends ClaimDueDeadlines' row selection (see there).
	skipLocked string
}

// sqliteTimeLayout is fixed-width, so stored times sort as they compare.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// sqliteDialect describes SQLite as opened by openSQLite.
func sqliteDialect() dialect {
	return dialect{
		name:     "sqlite",
		timeArg:  func(t time.Time) any { return t.UTC().Format(sqliteTimeLayout) },
		txOpts:   nil, // the DSN's _txlock=immediate makes every write transaction BEGIN IMMEDIATE
		numbered: false,
		migrationsDDL: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL
		) STRICT`,
	}
}

// postgresDialect describes PostgreSQL.
func postgresDialect() dialect {
	return dialect{
		name:     "postgres",
		numbered: true,
		timeArg:  func(t time.Time) any { return t.UTC() },
		// The version compare-and-set makes READ COMMITTED enough.
		txOpts: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		migrationsDDL: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL
		)`,
		// A transaction-scoped lock: released by the commit or rollback.
		lockMigrations: `SELECT pg_advisory_xact_lock(7260563170531247201)`,
		skipLocked:     ` FOR UPDATE SKIP LOCKED`,
	}
}

// boolArg is the value bound to a boolean column: SQLite's STRICT
// tables have no boolean type and store 0 or 1.
func (d dialect) boolArg(b bool) any {
	if d.name == "postgres" {
		return b
	}
	if b {
		return 1
	}
	return 0
}

// q rewrites a query's placeholders for the dialect. Queries are constants
// of this package and hold no ? other than placeholders.
func (d dialect) q(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// stamp is the form in which a time is stored and returned: UTC, truncated
// to microseconds (the precision of PostgreSQL's timestamptz), so what is
// returned equals what is read back later.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// timeCol scans a time column of either dialect into a UTC time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*c.t = v.UTC()
		return nil
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("scan time from %T", src)
	}
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(sqliteTimeLayout, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*c.t = t.UTC()
	return nil
}

// optTimeCol scans a nullable time column: NULL is the zero time.
type optTimeCol struct{ t *time.Time }

func (c optTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = time.Time{}
		return nil
	}
	return timeCol(c).Scan(src)
}

// nullIfEmpty stores an empty optional string as NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
