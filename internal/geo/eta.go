package geo

import "math"

// ETA estimates a trip; a routing service can implement it.
type ETA interface {
	Estimate(from, to Point) (meters float64, seconds int)
}

// Straight estimates a trip from the great-circle distance: the road is
// DetourFactor times longer and driven at SpeedMPS on average. Zero
// fields take 8.3 m/s and 1.3.
type Straight struct {
	SpeedMPS     float64
	DetourFactor float64
}

var _ ETA = Straight{}

// Estimate returns the great-circle distance and the travel time it
// implies, rounded up to whole seconds.
func (s Straight) Estimate(from, to Point) (meters float64, seconds int) {
	speed, detour := s.SpeedMPS, s.DetourFactor
	if speed <= 0 {
		speed = 8.3
	}
	if detour <= 0 {
		detour = 1.3
	}
	meters = Distance(from, to)
	return meters, int(math.Ceil(meters * detour / speed))
}
