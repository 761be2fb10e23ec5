package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// freshSchema returns base with its search_path set to a new schema,
// dropped at cleanup.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	db, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "cluster_" + hex.EncodeToString(r[:])
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestClusterTwoNodes runs two dispatchd nodes on one PostgreSQL and one
// external NATS: a change made through one node reaches sockets on the
// other, and claims stay single-winner across nodes.
func TestClusterTwoNodes(t *testing.T) {
	natsURL, dbURL := os.Getenv("DISPATCH_TEST_NATS_URL"), os.Getenv("DISPATCH_TEST_DATABASE_URL")
	if natsURL == "" || dbURL == "" {
		t.Skip("DISPATCH_TEST_NATS_URL and DISPATCH_TEST_DATABASE_URL are needed for a cluster")
	}
	env := map[string]string{
		"DISPATCH_JWT_SECRET":   "a-secret-of-at-least-32-bytes!!!",
		"DISPATCH_NATS_URL":     natsURL,
		"DISPATCH_DATABASE_URL": freshSchema(t, dbURL),
	}
	a := start(t, env, "serve", "--addr", "127.0.0.1:0")
	b := start(t, env, "serve", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	join := func(node *started, ns, role, sub string) *sioclient.Client {
		tok, err := runToken(t, env, "--tenant", "acme", "--role", role, "--sub", sub)
		require.NoError(t, err)
		c, err := sioclient.Dial(ctx, "http://"+node.addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		_, err = c.Connect(ctx, ns, map[string]string{"token": tok})
		require.NoError(t, err)
		return c
	}
	call := func(c *sioclient.Client, ns, event string, arg any) map[string]json.RawMessage {
		got, err := c.Call(ctx, ns, event, arg)
		require.NoError(t, err)
		var r map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(got[0], &r))
		return r
	}
	next := func(c *sioclient.Client, name string) sioclient.Event {
		for {
			select {
			case ev := <-c.Events:
				if ev.Name == name {
					return ev
				}
			case <-ctx.Done():
				t.Fatalf("no %s", name)
			}
		}
	}

	vendor := join(a, "/vendors", "vendor", "v1")
	drivers := []*sioclient.Client{join(a, "/drivers", "driver", "d1"), join(b, "/drivers", "driver", "d2")}
	customer := join(b, "/customers", "customer", "c1")
	for _, d := range drivers {
		call(d, "/drivers", "pickups:subscribe", map[string]any{})
	}
	r := call(vendor, "/vendors", "order:create", map[string]any{
		"store": "Nord", "customerId": "c1",
		"pickup":  map[string]any{"address": "a", "lat": 1, "lng": 2},
		"dropoff": map[string]any{"address": "b", "lat": 3, "lng": 4},
	})
	var o orders.Order
	require.NoError(t, json.Unmarshal(r["order"], &o))
	for _, d := range drivers {
		ev := next(d, "pickup:available")
		assert.Contains(t, string(ev.Args[0]), o.ID, "both nodes announce the pickup")
	}
	call(customer, "/customers", "order:watch", map[string]any{"orderId": o.ID})

	var wg sync.WaitGroup
	oks := make([]bool, len(drivers))
	for i, d := range drivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := d.Call(ctx, "/drivers", "pickup:claim", map[string]any{"orderId": o.ID})
			if err == nil {
				var r struct{ OK bool }
				_ = json.Unmarshal(got[0], &r)
				oks[i] = r.OK
			}
		}()
	}
	wg.Wait()
	assert.NotEqual(t, oks[0], oks[1], "exactly one of the two nodes' drivers wins: %v", oks)
	ev := next(customer, "order:status")
	assert.Contains(t, string(ev.Args[0]), `"status":"assigned"`, "node B's customer hears node A's or B's claim")
	ev = next(vendor, "order:status")
	assert.Contains(t, string(ev.Args[0]), `"status":"ready"`)
}
