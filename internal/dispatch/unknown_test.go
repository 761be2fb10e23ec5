package dispatch

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// countingObserver counts what the namespaces report, for the tests.
type countingObserver struct {
	mu sync.Mutex
	n  map[[3]string]int
}

func (o *countingObserver) EventIn(ns, event string, code orders.Code) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = make(map[[3]string]int)
	}
	o.n[[3]string{ns, event, string(code)}]++
}

func (o *countingObserver) count(ns, event string, code orders.Code) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[[3]string{ns, event, string(code)}]
}

// TestUnknownEvent: an event the namespace does not know, misspelt or sent
// on the wrong namespace, answers unknown_event when the client asked for
// an ack (it waited forever before), is dropped otherwise, and is counted
// either way under one label, whatever its name.
func TestUnknownEvent(t *testing.T) {
	obs := &countingObserver{}
	e := newEnv(t, Config{Observer: obs})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")

	tests := []struct {
		name  string
		u     *user
		event string
		want  string
	}{
		{"misspelt", vendor, "order:craete", `unknown event "order:craete" on /vendors`},
		{"wrong namespace", driver, "order:create", `unknown event "order:create" on /drivers`},
		{"v2 event spelt wrong", driver, "pickups:unsubscrbe", `unknown event "pickups:unsubscrbe" on /drivers`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.u.t = t
			r := tt.u.call(tt.event, map[string]any{})
			require.False(t, r.OK, "%s", r.Raw)
			assert.Equal(t, orders.Code("unknown_event"), r.Error.Code)
			assert.Equal(t, tt.want, r.Error.Message)
		})
	}
	vendor.t, driver.t = t, t

	// Without an ack it is dropped, and the connection keeps working.
	require.NoError(t, vendor.c.Emit(vendor.ns, "order:craete", map[string]any{}))
	vendor.mustOK("orders:list")
	assert.Equal(t, 2, obs.count("/vendors", "(unknown)", "unknown_event"))
	assert.Equal(t, 2, obs.count("/drivers", "(unknown)", "unknown_event"))

	// The main namespace too, which has no authentication.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, e.url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Connect(ctx, "/", nil)
	require.NoError(t, err)
	got, err := c.Call(ctx, "/", "pnig")
	require.NoError(t, err)
	require.Len(t, got, 1)
	var r reply
	require.NoError(t, json.Unmarshal(got[0], &r))
	require.False(t, r.OK)
	assert.Equal(t, orders.Code("unknown_event"), r.Error.Code)
	assert.Equal(t, `unknown event "pnig" on /`, r.Error.Message)
	assert.Equal(t, 1, obs.count("/", "(unknown)", "unknown_event"))
}

// TestRefusedConnectsAreCounted: every CONNECT refusal is counted by
// namespace and reason, not only logged at debug.
func TestRefusedConnectsAreCounted(t *testing.T) {
	obs := &countingObserver{}
	e := newEnv(t, Config{Observer: obs})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, e.url)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Connect(ctx, "/drivers", map[string]string{"token": "not-a-token"})
	require.Error(t, err)
	_, err = c.Connect(ctx, "/vendors", map[string]string{"token": token(t, "acme", orders.RoleDriver, "d1")})
	require.Error(t, err)
	assert.Equal(t, 1, obs.count("/drivers", "connect", orders.CodeUnauthorized))
	assert.Equal(t, 1, obs.count("/vendors", "connect", orders.CodeForbidden))
}
