// Package geo measures distances on the Earth, estimates travel times and
// finds the drivers nearest to a point. It imports nothing internal.
//
// Distance is the great-circle (haversine) distance on a sphere of the
// mean Earth radius, 6,371,008.8 m: within 0.5 % of the ellipsoid, far
// below the error of calling a straight line a route.
//
// ETA is the straight-line estimate
//
//	seconds = ceil(meters × DetourFactor / SpeedMPS)
//
// (defaults 1.3 and 8.3 m/s ≈ 30 km/h). Callers depend on the small ETA
// interface, so a routing service can replace Straight without touching
// them.
//
// Index keeps points in a uniform latitude/longitude grid rather than
// geohash cells: a cell is two integer divisions away from a point, a
// ring of neighbour cells is plain index arithmetic (geohash neighbours
// need base-32 carry rules at cell edges), and the distance bound that
// stops a search is a closed formula on the grid's edges. Cells are
// square in degrees, so they narrow towards the poles; the search stays
// exact there (its bounds use the point's latitude) and falls back to a
// scan of the occupied cells when a ring would cost more than that.
package geo
