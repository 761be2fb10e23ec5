package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// testDatabaseEnv names a PostgreSQL URL for the PostgreSQL tests, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const testDatabaseEnv = "DISPATCH_TEST_DATABASE_URL"

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) *Store { return openSQLiteT(t, t.TempDir()) })
}

func TestPostgres(t *testing.T) {
	skipWithoutPostgres(t)
	runSuite(t, func(t *testing.T) *Store { return openT(t, Config{DatabaseURL: postgresURL(t)}) })
}

// openT opens a store and closes it when the test ends.
func openT(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg, zaptest.NewLogger(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func openSQLiteT(t testing.TB, dir string) *Store {
	t.Helper()
	return openT(t, Config{DataDir: dir})
}

func skipWithoutPostgres(t testing.TB) {
	t.Helper()
	if os.Getenv(testDatabaseEnv) == "" {
		t.Skip(testDatabaseEnv + " is not set: the PostgreSQL tests need a server")
	}
}

// postgresURL creates a fresh schema, dropped when the test ends, and
// returns the test database URL with search_path set to it, so that every
// test starts from an empty database.
func postgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(testDatabaseEnv)
	cc, err := pgx.ParseConfig(base)
	require.NoError(t, err)
	admin := stdlib.OpenDB(*cc)
	t.Cleanup(func() { require.NoError(t, admin.Close()) })

	schema := "test_" + randomHex(t)
	ctx := context.Background()
	// The name is ours and made of [a-z0-9_]; identifiers cannot be bound
	// as parameters.
	_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		require.NoError(t, err)
	})

	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown URL parameters as run-time parameters
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// testTime has nanoseconds and a non-UTC zone, so tests see the
// truncation to microseconds and the conversion to UTC.
func testTime() time.Time {
	return time.Date(2025, 3, 1, 12, 30, 45, 123456789, time.FixedZone("CET", 3600))
}

func newOrder(customer, zone string) orders.NewOrder {
	return orders.NewOrder{
		Store:      "Pizza Nord",
		CustomerID: customer,
		Zone:       zone,
		Pickup:     orders.Place{Address: "1 Main St", Lat: 52.520008, Lng: 13.404954},
		Dropoff:    orders.Place{Address: "9 Side St", Lat: -33.868820, Lng: 151.209296},
		Items:      []orders.Item{{Name: "margherita", Qty: 2}, {Name: "tiramisù", Qty: 1}},
	}
}

// createT creates an order that must be new.
func createT(t testing.TB, s *Store, tenant, vendor string, n orders.NewOrder) orders.Order {
	t.Helper()
	o, created, err := s.CreateOrder(context.Background(), tenant, vendor, n, testTime())
	require.NoError(t, err)
	require.NotNil(t, created)
	assert.Equal(t, orders.Ready, created.Status)
	assert.Equal(t, o.ID, created.OrderID)
	assert.Equal(t, 1, created.Version)
	return o
}

// countRows counts rows through the write pool, which sees everything
// committed.
func countRows(t testing.TB, db *sql.DB, d dialect, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), d.q(query), args...).Scan(&n))
	return n
}

// migrationCount is how many migrations the store has for its dialect:
// every one must be recorded exactly once.
func migrationCount(t testing.TB, s *Store) int {
	t.Helper()
	ms, err := loadMigrations(migrationFiles, s.d.name)
	require.NoError(t, err)
	return len(ms)
}
