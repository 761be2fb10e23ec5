package geo

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDistance(t *testing.T) {
	quarter := math.Pi / 2 * EarthRadius
	tests := []struct {
		name   string
		a, b   Point
		meters float64
		tol    float64
	}{
		{"same point", Point{48.85, 2.35}, Point{48.85, 2.35}, 0, 1e-9},
		{"pole to equator", Point{90, 0}, Point{0, 0}, quarter, 1e-6},
		{"pole to pole", Point{90, 0}, Point{-90, 0}, 2 * quarter, 1e-6},
		{"quarter of the equator", Point{0, 0}, Point{0, 90}, quarter, 1e-6},
		{"across the antimeridian", Point{0, 179.5}, Point{0, -179.5}, EarthRadius * math.Pi / 180, 1e-6},
		{"180 and -180 are one meridian", Point{10, 180}, Point{10, -180}, 0, 1e-6},
		{"one degree of latitude", Point{10, 5}, Point{11, 5}, EarthRadius * math.Pi / 180, 1e-6},
		// Paris to London, about 343.5 km on the mean sphere.
		{"Paris to London", Point{48.8566, 2.3522}, Point{51.5074, -0.1278}, 343_556, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.InDelta(t, tt.meters, Distance(tt.a, tt.b), tt.tol)
			require.InDelta(t, tt.meters, Distance(tt.b, tt.a), tt.tol)
		})
	}
}

func TestPointValidate(t *testing.T) {
	tests := []struct {
		p  Point
		ok bool
	}{
		{Point{0, 0}, true},
		{Point{90, 180}, true},
		{Point{-90, -180}, true},
		{Point{90.0001, 0}, false},
		{Point{0, -180.0001}, false},
		{Point{math.NaN(), 0}, false},
		{Point{0, math.Inf(1)}, false},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if tt.ok {
			require.NoError(t, err, "%v", tt.p)
		} else {
			require.ErrorIs(t, err, ErrInvalidPoint, "%v", tt.p)
		}
	}
}

func TestStraightEstimate(t *testing.T) {
	from, to := Point{0, 0}, Point{0.1, 0} // 11,119.5 m
	d := Distance(from, to)
	tests := []struct {
		name    string
		eta     Straight
		seconds int
	}{
		{"defaults: 1.3 detour at 8.3 m/s", Straight{}, int(math.Ceil(d * 1.3 / 8.3))},
		{"no detour at 10 m/s", Straight{SpeedMPS: 10, DetourFactor: 1}, int(math.Ceil(d / 10))},
		{"twice the road at 1 m/s", Straight{SpeedMPS: 1, DetourFactor: 2}, int(math.Ceil(d * 2))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meters, seconds := tt.eta.Estimate(from, to)
			require.InDelta(t, d, meters, 1e-9)
			require.Equal(t, tt.seconds, seconds)
		})
	}
	require.Equal(t, 1742, func() int { _, s := (Straight{}).Estimate(from, to); return s }(), "11,119.5 m × 1.3 / 8.3")
}
