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

// DriverView lists a tenant's on-duty drivers with their last known
// positions (the Fleet).
type DriverView interface {
	OnDuty(tenant string) []DriverState
}

// Board returns a dispatcher's snapshot of the tenant (or one zone): the
// active orders, oldest first, and the drivers: every on-duty one (with
// its position when fresh) and every one carrying an active order, each
// with its load.
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
	var onDuty []DriverState
	if s.drivers != nil {
		onDuty = s.drivers.OnDuty(c.Tenant)
	}
	return s.withTrackingURLs(c, active), boardDrivers(onDuty, active), nil
}

// boardDrivers joins the on-duty drivers and the load of active orders:
// a driver carrying an order is listed even off duty (it still has to
// finish it).
func boardDrivers(onDuty []DriverState, active []orders.Order) []BoardDriver {
	load := make(map[string]int)
	for _, o := range active {
		if o.DriverID != "" {
			load[o.DriverID]++
		}
	}
	drivers := make([]BoardDriver, 0, len(onDuty)+len(load))
	for _, d := range onDuty {
		drivers = append(drivers, boardDriverOf(d, load[d.DriverID]))
		delete(load, d.DriverID)
	}
	for id, n := range load {
		drivers = append(drivers, BoardDriver{DriverID: id, ActiveOrders: n})
	}
	sort.Slice(drivers, func(i, j int) bool { return drivers[i].DriverID < drivers[j].DriverID })
	return drivers
}
