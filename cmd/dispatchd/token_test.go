package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

func runToken(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out lockedBuffer
	r := runner{getenv: envMap(env), stdout: &out}
	err := r.run(context.Background(), append([]string{"dispatchd", "token"}, args...))
	return strings.TrimSpace(out.String()), err
}

func TestTokenCommand(t *testing.T) {
	env := map[string]string{"DISPATCH_JWT_SECRET": "a-secret-of-at-least-32-bytes!!!", "DISPATCH_JWT_ISSUER": "dispatchd"}
	tok, err := runToken(t, env, "--tenant", "acme", "--role", "driver", "--sub", "d-7", "--ttl", "5m")
	require.NoError(t, err)
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(env["DISPATCH_JWT_SECRET"]), Issuer: "dispatchd"})
	require.NoError(t, err)
	c, err := v.Verify(tok)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), c.Expires, 2*time.Second, "--ttl sets exp")
	c.Expires = time.Time{}
	assert.Equal(t, auth.Claims{Subject: "d-7", Tenant: "acme", Role: orders.RoleDriver}, c)

	for _, bad := range [][]string{
		{"--role", "driver", "--sub", "d"},
		{"--tenant", "a.b", "--role", "driver", "--sub", "d"},
		{"--tenant", "acme", "--role", "admin", "--sub", "d"},
		{"--tenant", "acme", "--role", "driver", "--sub", "d", "--ttl", "-1h"},
	} {
		_, err := runToken(t, env, bad...)
		assert.Error(t, err, bad)
	}
}

// TestServeDispatch starts the real service through run() and plays a
// vendor → driver → customer round over real sockets with tokens from the
// token command.
func TestServeDispatch(t *testing.T) {
	env := map[string]string{"DISPATCH_JWT_SECRET": "a-secret-of-at-least-32-bytes!!!"}
	s := start(t, env, "serve", "--addr", "127.0.0.1:0")
	base := "http://" + s.addr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	join := func(ns, role, sub string) *sioclient.Client {
		tok, err := runToken(t, env, "--tenant", "acme", "--role", role, "--sub", sub)
		require.NoError(t, err)
		c, err := sioclient.Dial(ctx, base)
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
		require.JSONEq(t, "true", string(r["ok"]), "%s", got[0])
		return r
	}
	vendor := join("/vendors", "vendor", "v1")
	driver := join("/drivers", "driver", "d1")
	customer := join("/customers", "customer", "c1")
	call(driver, "/drivers", "pickups:subscribe", map[string]any{})
	r := call(vendor, "/vendors", "order:create", map[string]any{
		"store": "Nord", "customerId": "c1",
		"pickup":  map[string]any{"address": "a", "lat": 1, "lng": 2},
		"dropoff": map[string]any{"address": "b", "lat": 3, "lng": 4},
	})
	var o orders.Order
	require.NoError(t, json.Unmarshal(r["order"], &o))
	ev := <-driver.Events
	assert.Equal(t, "pickup:available", ev.Name)
	call(customer, "/customers", "order:watch", map[string]any{"orderId": o.ID})
	call(driver, "/drivers", "pickup:claim", map[string]any{"orderId": o.ID})
	ev = <-customer.Events
	assert.Equal(t, "order:status", ev.Name)
	assert.Contains(t, string(ev.Args[0]), `"status":"assigned"`)

	// The main namespace answers the health ping on the same session.
	_, err := customer.Connect(ctx, "/", nil)
	require.NoError(t, err)
	pong, err := customer.Call(ctx, "/", "ping")
	require.NoError(t, err)
	assert.Equal(t, `"pong"`, string(pong[0]))
}
