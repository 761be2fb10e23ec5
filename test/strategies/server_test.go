//go:build unix

package strategies

import (
	"os"
	"testing"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// secret signs every token of these tests.
const secret = "strategies-secret-0123456789abcdef0123456789"

// tenant is the one tenant of every test server.
const tenant = "acme"

// backend is a store a server runs on.
type backend struct {
	name string
	// env returns the server's store settings for t (a fresh schema or
	// data directory each call).
	env func(t testing.TB) []string
}

// backends are SQLite, always, and PostgreSQL when
// DISPATCH_TEST_DATABASE_URL is set.
func backends() []backend {
	all := []backend{{name: "sqlite", env: func(testing.TB) []string { return nil }}}
	if base := os.Getenv("DISPATCH_TEST_DATABASE_URL"); base != "" {
		all = append(all, backend{name: "postgres", env: func(t testing.TB) []string {
			return []string{"DISPATCH_DATABASE_URL=" + testproc.FreshSchema(t, base, "strategies")}
		}})
	}
	return all
}

// eachBackend runs test once per backend, as a subtest.
func eachBackend(t *testing.T, test func(t *testing.T, be backend)) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) { test(t, be) })
	}
}

// server is one fresh dispatchd process.
type server struct {
	proc *testproc.Proc
}

// startServer starts dispatchd from binary on be with env added, with
// its own data directory; it stops (and is checked) when t ends.
func startServer(t testing.TB, binary string, be backend, env ...string) *server {
	t.Helper()
	all := append([]string{
		"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_DATA_DIR=" + t.TempDir(), "DISPATCH_LOG_LEVEL=warn",
	}, be.env(t)...)
	return &server{proc: testproc.StartWith(t, binary, testproc.Options{Name: "dispatchd-" + be.name, Env: append(all, env...)})}
}

// token signs a token of the test tenant.
func token(t testing.TB, role orders.Role, sub string) string {
	t.Helper()
	return testproc.Sign(t, secret, tenant, role, sub)
}
