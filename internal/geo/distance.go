package geo

import (
	"errors"
	"fmt"
	"math"
)

// EarthRadius is the mean Earth radius in metres (IUGG).
const EarthRadius = 6371008.8

// Point is a position in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// ErrInvalidPoint: a latitude outside [-90, 90], a longitude outside
// [-180, 180], or a coordinate that is not a finite number.
var ErrInvalidPoint = errors.New("invalid point")

// Validate reports whether p is a position on the Earth.
func (p Point) Validate() error {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 {
		return fmt.Errorf("%w: lat %g, lng %g", ErrInvalidPoint, p.Lat, p.Lng)
	}
	return nil
}

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// Distance is the great-circle distance between a and b in metres.
func Distance(a, b Point) float64 {
	dLat := rad(b.Lat - a.Lat)
	dLng := rad(b.Lng - a.Lng)
	sLat, sLng := math.Sin(dLat/2), math.Sin(dLng/2)
	h := sLat*sLat + math.Cos(rad(a.Lat))*math.Cos(rad(b.Lat))*sLng*sLng
	h = math.Min(1, math.Max(0, h))
	return 2 * EarthRadius * math.Asin(math.Sqrt(h))
}
