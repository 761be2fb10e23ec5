package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap/zaptest"
)

// TestLifecycleStopsInReverse: parts stop last-started first, and a
// running part has returned before the part started before it stops.
func TestLifecycleStopsInReverse(t *testing.T) {
	l := &lifecycle{log: zaptest.NewLogger(t)}
	var order []string
	l.onStop(func() { order = append(order, "store") })
	l.run(context.Background(), "relay", func(ctx context.Context) error {
		<-ctx.Done()
		order = append(order, "relay")
		return nil
	})
	l.onStop(func() { order = append(order, "queues") })
	l.stop()
	l.stop() // a second stop does nothing
	assert.Equal(t, []string{"queues", "relay", "store"}, order)
}
