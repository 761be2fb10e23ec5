package dispatch

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/broker"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/store"
)

func TestFleetView(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	now := t0
	var heard []DriverState
	f := NewFleet(time.Minute, func(s DriverState) { heard = append(heard, s) })
	f.now = func() time.Time { return now }
	duty := func(id string, on bool, at time.Time) {
		f.ApplyDuty(orders.Duty{Tenant: "acme", DriverID: id, OnDuty: on, UpdatedAt: at})
	}
	here := geo.Point{Lat: 52.52, Lng: 13.40}

	f.Observe("acme", "d1", here, t0) // not on duty yet: kept aside
	_, _, ok := f.Position("acme", "d1")
	require.False(t, ok, "not on duty: no position")
	f.Observe("acme", "d3", here, t0) // never on duty: kept aside, then swept

	// The "on" arrives after the position (another subject): the
	// position counts from then on.
	duty("d1", true, t0)
	p, at, ok := f.Position("acme", "d1")
	require.True(t, ok, "the early position is kept")
	require.Equal(t, here, p)
	require.Equal(t, t0, at)
	duty("d2", true, t0)
	f.Observe("acme", "d1", geo.Point{Lat: 52.53, Lng: 13.40}, t0.Add(time.Second))
	f.Observe("acme", "d2", geo.Point{Lat: 52.60, Lng: 13.40}, t0.Add(time.Second))
	f.Observe("acme", "d1", geo.Point{Lat: 0, Lng: 0}, t0) // older than known: ignored
	p, at, ok = f.Position("acme", "d1")
	require.True(t, ok)
	require.Equal(t, geo.Point{Lat: 52.53, Lng: 13.40}, p)
	require.Equal(t, t0.Add(time.Second), at)

	got := f.Nearest("acme", here, 5, 50_000, nil)
	require.Len(t, got, 2)
	require.Equal(t, "d1", got[0].DriverID)
	require.InDelta(t, geo.Distance(here, geo.Point{Lat: 52.53, Lng: 13.40}), got[0].Meters, 1e-6)
	require.Equal(t, []Candidate{got[1]}, f.Nearest("acme", here, 5, 50_000, func(id string) bool { return id == "d2" }))
	require.Empty(t, f.Nearest("globex", here, 5, 50_000, nil), "tenants do not mix")

	duty("d2", false, t0.Add(2*time.Second))
	duty("d2", true, t0.Add(time.Second))                // a late, older change: ignored
	f.Observe("acme", "d2", here, t0.Add(3*time.Second)) // known off duty: not kept aside
	f.mu.RLock()
	_, kept := f.tenants["acme"].early["d2"]
	f.mu.RUnlock()
	require.False(t, kept, "an off-duty driver's positions do not pile up")
	states := f.OnDuty("acme")
	require.Len(t, states, 1)
	require.Equal(t, "d1", states[0].DriverID)
	require.True(t, states[0].Known)

	now = t0.Add(time.Second + time.Minute + time.Millisecond) // d1's position is stale
	_, _, ok = f.Position("acme", "d1")
	require.False(t, ok, "older than the TTL counts as unknown")
	require.Empty(t, f.Nearest("acme", here, 5, math.Inf(1), nil))
	require.False(t, f.OnDuty("acme")[0].Known)
	now = t0.Add(2 * time.Minute) // d2's off-duty mark is old too
	f.Sweep()
	f.mu.RLock()
	require.Zero(t, f.tenants["acme"].idx.Len(), "swept")
	require.Len(t, f.tenants["acme"].duty, 1, "the off-duty mark is swept too")
	require.Empty(t, f.tenants["acme"].early, "and the position of a driver never on duty")
	f.mu.RUnlock()
	require.Len(t, heard, 6, "the hook hears the duty changes and positions kept, not the ignored ones")
}

// TestFleetAcrossNodes: two fleets on one broker (two nodes) learn the
// on-duty drivers from the store at start, and every later duty change
// and position from the subjects, whichever node published it.
func TestFleetAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	log := zaptest.NewLogger(t)
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir}, log)
	require.NoError(t, err)
	br, err := broker.Open(ctx, broker.Config{DataDir: dir}, log)
	require.NoError(t, err)
	t0 := time.Now().UTC()
	_, err = st.SetDuty(ctx, "acme", "early", true, t0)
	require.NoError(t, err)

	var wg sync.WaitGroup
	fleets := []*Fleet{NewFleet(time.Minute, nil), NewFleet(time.Minute, nil)}
	for _, f := range fleets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, f.Run(ctx, br, st, log))
		}()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		br.Close(context.Background())
		require.NoError(t, st.Close())
	})
	for _, f := range fleets {
		require.Eventually(t, func() bool { return len(f.OnDuty("acme")) == 1 }, 3*time.Second, 10*time.Millisecond, "loaded at start")
	}

	node := NewLocations(br, &recorder{}, log)
	require.NoError(t, node.PublishDuty(ctx, orders.Duty{Tenant: "acme", DriverID: "d1", OnDuty: true, UpdatedAt: t0}))
	for _, f := range fleets {
		require.Eventually(t, func() bool { return len(f.OnDuty("acme")) == 2 }, 3*time.Second, 10*time.Millisecond)
	}
	require.NoError(t, node.Publish(ctx, "acme", "d1", nil, Location{Lat: 52.5, Lng: 13.4}, t0))
	for _, f := range fleets {
		require.Eventually(t, func() bool {
			p, _, ok := f.Position("acme", "d1")
			return ok && p == geo.Point{Lat: 52.5, Lng: 13.4}
		}, 3*time.Second, 10*time.Millisecond)
	}
}
