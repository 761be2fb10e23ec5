package dispatch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// TestSocketLog: at debug, a socket's connect and disconnect name tenant,
// role, user, namespace and transport; every refusal names its reason, the
// namespace and (when a valid token named one) the tenant; no line holds
// a token.
func TestSocketLog(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	e := newEnvLog(t, Config{MaxSocketsPerTenant: 1}, zap.New(core))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	u := e.connect(t, "acme", orders.RoleDriver, "d1")
	c, err := sioclient.Dial(ctx, e.url)
	require.NoError(t, err)
	defer c.Close()
	tokens := []string{token(t, "acme", orders.RoleDriver, "d1"), token(t, "acme", orders.RoleVendor, "v1"),
		token(t, "acme", orders.RoleDriver, "d2"), "forged.token.value"}
	refusals := []struct {
		ns, tok string
		reason  orders.Code
		tenant  string
	}{
		{"/drivers", "", orders.CodeUnauthorized, ""},
		{"/drivers", tokens[3], orders.CodeUnauthorized, ""},
		{"/drivers", tokens[1], orders.CodeForbidden, "acme"},
		{"/drivers", tokens[2], orders.CodeRateLimited, "acme"}, // one socket per tenant, d1 holds it
	}
	for _, r := range refusals {
		_, err := c.Connect(ctx, r.ns, map[string]string{"token": r.tok})
		require.Error(t, err, "refused: %s", r.reason)
	}
	require.NoError(t, u.c.Close())
	require.Eventually(t, func() bool { return logs.FilterMessage("socket disconnected").Len() == 1 },
		5*time.Second, 10*time.Millisecond)

	conn := logs.FilterMessage("socket connected").All()
	require.Len(t, conn, 1)
	want := map[string]any{"tenant_id": "acme", "role": "driver", "user_id": "d1", "namespace": "/drivers"}
	for _, entry := range append(conn, logs.FilterMessage("socket disconnected").All()...) {
		require.Equal(t, zapcore.DebugLevel, entry.Level)
		fields := entry.ContextMap()
		for k, v := range want {
			require.Equal(t, v, fields[k], "%s: %s", entry.Message, k)
		}
		require.Contains(t, []any{"polling", "websocket"}, fields["transport"])
	}
	require.NotEmpty(t, logs.FilterMessage("socket disconnected").All()[0].ContextMap()["reason"])

	refused := logs.FilterMessage("socket refused").All()
	require.Len(t, refused, len(refusals))
	for i, r := range refusals {
		fields := refused[i].ContextMap()
		require.Equal(t, zapcore.DebugLevel, refused[i].Level)
		require.Equal(t, string(r.reason), fields["reason"], "refusal %d", i)
		require.Equal(t, r.ns, fields["namespace"])
		require.Equal(t, r.tenant, fields["tenant_id"])
	}
	for _, entry := range logs.All() {
		line := fmt.Sprint(entry.Message, entry.ContextMap())
		for _, tok := range tokens {
			require.NotContains(t, line, tok, "no token in the log")
		}
	}
}
