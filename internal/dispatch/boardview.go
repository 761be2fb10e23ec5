package dispatch

import (
	"context"
	"sort"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// activeStatuses are the statuses an order is on the board in.
var activeStatuses = []orders.Status{orders.Ready, orders.Assigned, orders.PickedUp, orders.InTransit}

// boardListLimit bounds each status's part of the snapshot.
const boardListLimit = 1000

// Board returns a dispatcher's snapshot of the tenant (or one zone): the
// active orders, oldest first, and the drivers carrying them with their
// load. Drivers with no active order are not known here; the fleet of
// on-duty drivers joins this list when duty is tracked.
func (s *Service) Board(ctx context.Context, c auth.Claims, zone string) ([]orders.Order, []BoardDriver, error) {
	if c.Role != orders.RoleDispatcher {
		return nil, nil, orders.ErrForbidden
	}
	if err := orders.CheckZone(zone); err != nil {
		return nil, nil, err
	}
	active := []orders.Order{}
	for _, st := range activeStatuses {
		list, err := s.store.ListOrders(ctx, c.Tenant, orders.Filter{Status: st, Zone: zone, Limit: boardListLimit})
		if err != nil {
			return nil, nil, err
		}
		active = append(active, list...)
	}
	sort.Slice(active, func(i, j int) bool { return active[i].ID < active[j].ID })
	return active, driversOf(active), nil
}

// driversOf counts the active orders of each driver that carries one.
func driversOf(active []orders.Order) []BoardDriver {
	load := make(map[string]int)
	for _, o := range active {
		if o.DriverID != "" {
			load[o.DriverID]++
		}
	}
	drivers := make([]BoardDriver, 0, len(load))
	for id, n := range load {
		drivers = append(drivers, BoardDriver{DriverID: id, OnDuty: true, ActiveOrders: n})
	}
	sort.Slice(drivers, func(i, j int) bool { return drivers[i].DriverID < drivers[j].DriverID })
	return drivers
}
