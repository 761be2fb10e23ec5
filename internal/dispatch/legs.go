package dispatch

import (
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Leg is where a driver's position is shown: one order, and the way
// left to its next stop when known.
type Leg struct {
	OrderID        string   `json:"orderId"`
	DistanceMeters *float64 `json:"distanceMeters,omitempty"`
	ETASeconds     *int     `json:"etaSeconds,omitempty"`
}

// legs measures the way from p to each order's next stop: the pickup
// while assigned, the dropoff after.
func legs(list []orders.Order, p geo.Point, eta geo.ETA) []Leg {
	out := make([]Leg, 0, len(list))
	for _, o := range list {
		stop := o.Dropoff
		if o.Status == orders.Assigned {
			stop = o.Pickup
		}
		l := Leg{OrderID: o.ID}
		to := geo.Point{Lat: stop.Lat, Lng: stop.Lng}
		if to.Validate() == nil && p.Validate() == nil {
			m, s := eta.Estimate(p, to)
			l.DistanceMeters, l.ETASeconds = &m, &s
		}
		out = append(out, l)
	}
	return out
}
