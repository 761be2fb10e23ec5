package dispatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// cancelledLister fails as a store read does when its context ends: the
// node is stopping while the fleet still loads.
type cancelledLister struct{ cancel context.CancelFunc }

func (l cancelledLister) OnDutyDrivers(ctx context.Context) ([]orders.Duty, error) {
	l.cancel()
	<-ctx.Done()
	return nil, ctx.Err()
}

// brokenLister fails while the node runs on.
type brokenLister struct{}

func (brokenLister) OnDutyDrivers(context.Context) ([]orders.Duty, error) {
	return nil, errors.New("disk on fire")
}

type quietPositions struct{}

func (quietPositions) LocationSubject() string                { return "loc" }
func (quietPositions) PublishBestEffort(string, []byte) error { return nil }
func (quietPositions) SubscribeBestEffort(string, func([]byte)) (func(), error) {
	return func() {}, nil
}

// A node stopped while its fleet still loads stops cleanly (a test that
// ended within its first milliseconds failed on "context canceled");
// a load that fails while the node runs is still an error.
func TestFleetRunStoppedDuringLoad(t *testing.T) {
	log := zaptest.NewLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, NewFleet(time.Minute, nil).Run(ctx, quietPositions{}, cancelledLister{cancel}, log))

	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	require.ErrorContains(t, NewFleet(time.Minute, nil).Run(ctx2, quietPositions{}, brokenLister{}, log), "disk on fire")
}
