package delivery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestEventRoutedIsDebug: the relay's per-record "event routed" line is
// logged at debug, never info (it came a dozen times per order).
func TestEventRoutedIsDebug(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	box := &fakeOutbox{sent: map[int64]bool{}, entries: []delivery.OutboxEntry{
		change(t, 1, orders.Ready), change(t, 2, orders.Assigned),
	}}
	c := delivery.NewRelay(delivery.Config{}, box, newMemLog(), dispatch.Fanout, zap.New(core))
	for c.RelayOnce(context.Background()) {
	}
	c.AwaitMark()
	routed := logs.FilterMessage("event routed").All()
	require.NotEmpty(t, routed, "routing is still logged at debug")
	for _, e := range routed {
		require.Equal(t, zapcore.DebugLevel, e.Level)
		require.Equal(t, "acme", e.ContextMap()["tenant_id"])
	}
}
