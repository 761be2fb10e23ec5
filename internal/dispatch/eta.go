package dispatch

import (
	"time"

	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// DriverPositions tells where an on-duty driver is, if its position is
// fresh: the Fleet.
type DriverPositions interface {
	Position(tenant, driver string) (geo.Point, time.Time, bool)
}

var _ DriverPositions = (*Fleet)(nil)

// statusETA is what order:status's etaSeconds is made of.
type statusETA struct {
	positions DriverPositions
	eta       geo.ETA
}

// EnableETA makes order:status carry etaSeconds: the way from the
// driver's fresh position, as this node's positions know it when the
// transition is asked for, to the order's next stop, estimated by eta.
// Call it before serving.
func (s *Service) EnableETA(positions DriverPositions, eta geo.ETA) {
	s.eta = &statusETA{positions: positions, eta: eta}
}

// withETA lets req estimate the driver's time to the order's next stop.
// The position is read before the write; the stop is the changed order's
// (the pickup once assigned, the dropoff once picked up), so a request
// the order refuses or a transition to any other status gets none.
func (s *Service) withETA(tenant string, req orders.Request) orders.Request {
	if s.eta == nil {
		return req
	}
	driver := etaDriver(req)
	if driver == "" {
		return req
	}
	p, _, ok := s.eta.positions.Position(tenant, driver)
	if !ok {
		return req
	}
	eta := s.eta.eta
	req.ETA = func(next orders.Order) *int {
		switch next.Status {
		case orders.Assigned, orders.PickedUp, orders.InTransit:
		default:
			return nil
		}
		if next.DriverID != driver {
			return nil
		}
		return legs([]orders.Order{next}, p, eta)[0].ETASeconds
	}
	return req
}

// etaDriver is the driver who will drive to the next stop if req
// succeeds: the claiming or moving driver, or the one assigned.
func etaDriver(req orders.Request) string {
	switch req.Action {
	case orders.ActionClaim, orders.ActionPickUp, orders.ActionInTransit:
		return req.Actor.ID
	case orders.ActionAssign:
		return req.DriverID
	}
	return ""
}
