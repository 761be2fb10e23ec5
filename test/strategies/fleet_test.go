//go:build unix

package strategies

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// The pickup every order of these tests shares; driver i (from 1) waits
// i × spacing metres due north of it, so the nearest driver is driver 1,
// and each ring of offers is the next drivers in order.
const (
	pickupLat, pickupLng = 52.52, 13.40
	spacing              = 200.0 // metres
	// metresPerDegreeLat on the server's sphere (geo.EarthRadius).
	metresPerDegreeLat = 6371008.8 * math.Pi / 180
	// setupParallel bounds the drivers connecting at once.
	setupParallel = 16
	// fleetWait bounds how long every node takes to see the drivers.
	fleetWait = 15 * time.Second
)

// driverName is driver i's user id.
func driverName(i int) string { return fmt.Sprintf("d%03d", i) }

// driverLat is driver i's latitude.
func driverLat(i int) float64 { return pickupLat + float64(i)*spacing/metresPerDegreeLat }

// drivers connects n drivers (drivers[i-1] is driver i), each on duty at
// its position and, with subscribe, subscribed to every zone's pickups;
// it returns once the server's fleet has every one of them (as a
// dispatcher's board shows). onEvent, when not nil, hears each driver's
// events (with the driver's index).
func drivers(t testing.TB, s *server, n int, subscribe bool, onEvent func(i int, r received)) []*peer {
	t.Helper()
	out := make([]*peer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, setupParallel)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var hear func(received)
			if onEvent != nil {
				hear = func(r received) { onEvent(i+1, r) }
			}
			out[i], errs[i] = onDuty(t, s, i+1, subscribe, hear)
		}()
	}
	wg.Wait()
	for _, p := range out {
		if p != nil {
			t.Cleanup(func() { _ = p.c.Close() })
		}
	}
	require.NoError(t, errors.Join(errs...), "drivers on duty")
	waitFleet(t, s, n)
	return out
}

// onDuty connects driver i, subscribes it if asked, and sends driver:duty
// and its position.
func onDuty(t testing.TB, s *server, i int, subscribe bool, onEvent func(received)) (*peer, error) {
	p, err := dial(t, s, orders.RoleDriver, driverName(i), onEvent)
	if err != nil {
		return nil, err
	}
	steps := []struct {
		event   string
		payload any
	}{
		{"driver:duty", map[string]any{"onDuty": true}},
		{"location:update", map[string]any{"lat": driverLat(i), "lng": pickupLng}},
	}
	if subscribe {
		steps = append([]struct {
			event   string
			payload any
		}{{"pickups:subscribe", map[string]any{}}}, steps...)
	}
	for _, st := range steps {
		res, err := p.request(st.event, st.payload)
		if err == nil && code(res) != "" {
			err = fmt.Errorf("%s: %s answered %s", p.name, st.event, res)
		}
		if err != nil {
			_ = p.c.Close()
			return nil, err
		}
	}
	return p, nil
}

// boardDriver is one row of board:subscribe's drivers.
type boardDriver struct {
	DriverID string   `json:"driverId"`
	OnDuty   bool     `json:"onDuty"`
	Lat      *float64 `json:"lat"`
}

// waitFleet waits until the dispatchers' board lists exactly want
// on-duty drivers with a position: the server's fleet, which every
// strategy picks drivers from, has them.
func waitFleet(t testing.TB, s *server, want int) {
	t.Helper()
	d, err := dial(t, s, orders.RoleDispatcher, "ops", nil)
	require.NoError(t, err)
	defer func() { _ = d.c.Close() }()
	stop := time.Now().Add(fleetWait)
	for {
		var board struct {
			Drivers []boardDriver `json:"drivers"`
		}
		d.mustOK("board:subscribe", map[string]any{}, &board)
		var listed []string
		for _, dr := range board.Drivers {
			if dr.OnDuty && dr.Lat != nil {
				listed = append(listed, dr.DriverID)
			}
		}
		if len(listed) == want {
			return
		}
		if time.Now().After(stop) {
			t.Fatalf("the board did not list %d on-duty drivers with a position within %s; it lists %d: %v", want, fleetWait, len(listed), listed)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-d.c.Done():
			t.Fatal("the dispatcher's socket closed")
		}
	}
}

// order is the part of the contract's order object these tests read.
type order struct {
	ID       string        `json:"id"`
	Status   orders.Status `json:"status"`
	DriverID string        `json:"driverId"`
	Dispatch struct {
		Strategy string `json:"strategy"`
	} `json:"dispatch"`
}

// newOrder is an order:create payload at the shared pickup; strategy ""
// leaves the tenant's default.
func newOrder(customer, strategy string) map[string]any {
	return newOrderAt(customer, strategy, pickupLat)
}

// newOrderAt is newOrder with the pickup at latitude lat.
func newOrderAt(customer, strategy string, lat float64) map[string]any {
	o := map[string]any{
		"store": "Pizza Nord", "customerId": customer,
		"pickup":  map[string]any{"address": "1 Main St", "lat": lat, "lng": pickupLng},
		"dropoff": map[string]any{"address": "9 Side St", "lat": 52.50, "lng": 13.42},
		"items":   []map[string]any{{"name": "margherita"}},
	}
	if strategy != "" {
		o["dispatch"] = map[string]any{"strategy": strategy}
	}
	return o
}

// create posts an order as vendor, of strategy ("": the tenant's
// default), and requires it to be ready and of strategy want.
func create(t testing.TB, vendor *peer, strategy, want string) order {
	t.Helper()
	var res struct {
		Order order `json:"order"`
	}
	vendor.mustOK("order:create", newOrder("c1", strategy), &res)
	require.Equal(t, orders.Ready, res.Order.Status, "a new order")
	require.Equal(t, want, res.Order.Dispatch.Strategy, "the order's dispatch.strategy")
	return res.Order
}
