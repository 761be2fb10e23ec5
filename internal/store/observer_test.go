package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// opRecorder is an Observer that keeps the operations it hears.
type opRecorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *opRecorder) DB(op string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		op += " (negative duration)"
	}
	r.ops = append(r.ops, op)
}

func (r *opRecorder) heard() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...)
}

// The store times its own operations: what cmd/dispatchd's metrics show
// as dispatchd_db_seconds comes from here, without a wrapper.
func TestObserverHearsEachOperation(t *testing.T) {
	rec := &opRecorder{}
	s := openT(t, Config{DataDir: t.TempDir(), Observer: rec})
	ctx := context.Background()
	now := time.Now().UTC()

	o, _, err := s.CreateOrder(ctx, "t1", "v1", newOrder("c1", ""), now)
	require.NoError(t, err)
	_, err = s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	_, _, err = s.Transition(ctx, "t1", o.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, now)
	require.NoError(t, err)
	_, err = s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	_, err = s.PendingOutbox(ctx, 10)
	require.NoError(t, err)

	require.Equal(t, []string{"create_order", "get_order", "transition", "events", "pending_outbox"}, rec.heard())
}

// Without an Observer nothing is timed and nothing breaks.
func TestNoObserver(t *testing.T) {
	s := openSQLiteT(t, t.TempDir())
	_, _, err := s.CreateOrder(context.Background(), "t1", "v1", newOrder("c1", ""), time.Now().UTC())
	require.NoError(t, err)
}
