package geo

import (
	"math"
	"sort"
	"time"
)

// DefaultCellDegrees is the grid's cell size: about 2.2 km north-south,
// so a city's drivers spread over tens to hundreds of cells and the ten
// nearest are found within a ring or two.
const DefaultCellDegrees = 0.02

// Neighbor is an indexed id and its distance in metres from the query.
type Neighbor struct {
	ID     string
	Meters float64
}

type cell struct{ row, col int32 }

type entry struct {
	p   Point
	at  time.Time
	c   cell
	pos int // index in cells[c]
}

// Index finds the ids nearest to a point. Not safe for concurrent use:
// the owner locks.
type Index struct {
	latDeg, lngDeg float64 // cell size, dividing 180 and 360 exactly
	rows, cols     int32
	byID           map[string]*entry
	cells          map[cell][]slot
}

// slot is an id in its cell, with its point: a search reads cells only,
// no per-id map lookup.
type slot struct {
	id string
	p  Point
}

// minCellDegrees (about 11 m) keeps the grid's column count far inside
// int32.
const minCellDegrees = 1e-4

// NewIndex returns an empty grid of cells about cellDegrees wide
// (DefaultCellDegrees when not positive; at least 0.0001°, at most 90°).
func NewIndex(cellDegrees float64) *Index {
	if !(cellDegrees > 0) || cellDegrees > 90 {
		cellDegrees = DefaultCellDegrees
	}
	cellDegrees = max(cellDegrees, minCellDegrees)
	rows := int32(math.Max(1, math.Round(180/cellDegrees)))
	cols := int32(math.Max(1, math.Round(360/cellDegrees)))
	return &Index{
		latDeg: 180 / float64(rows), lngDeg: 360 / float64(cols),
		rows: rows, cols: cols,
		byID:  make(map[string]*entry),
		cells: make(map[cell][]slot),
	}
}

// Len is the number of indexed ids.
func (x *Index) Len() int { return len(x.byID) }

func (x *Index) cellOf(p Point) cell {
	r := int32(math.Floor((p.Lat + 90) / x.latDeg))
	c := int32(math.Floor((p.Lng + 180) / x.lngDeg))
	return cell{row: min(max(r, 0), x.rows-1), col: min(max(c, 0), x.cols-1)}
}

// Upsert places id at p, seen at at.
func (x *Index) Upsert(id string, p Point, at time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	c := x.cellOf(p)
	if e, ok := x.byID[id]; ok {
		if e.c == c {
			e.p, e.at = p, at
			x.cells[c][e.pos].p = p
			return nil
		}
		x.unlink(e)
	}
	x.byID[id] = &entry{p: p, at: at, c: c, pos: len(x.cells[c])}
	x.cells[c] = append(x.cells[c], slot{id: id, p: p})
	return nil
}

// Get returns id's point and when it was seen.
func (x *Index) Get(id string) (Point, time.Time, bool) {
	e, ok := x.byID[id]
	if !ok {
		return Point{}, time.Time{}, false
	}
	return e.p, e.at, true
}

// Remove forgets id; it reports whether id was indexed.
func (x *Index) Remove(id string) bool {
	e, ok := x.byID[id]
	if ok {
		x.unlink(e)
		delete(x.byID, id)
	}
	return ok
}

// RemoveSeenBefore forgets every id last seen before t and returns them.
func (x *Index) RemoveSeenBefore(t time.Time) []string {
	var gone []string
	for id, e := range x.byID {
		if e.at.Before(t) {
			gone = append(gone, id)
		}
	}
	for _, id := range gone {
		x.Remove(id)
	}
	return gone
}

// unlink takes e's id out of its cell, swapping the cell's last id into its
// place.
func (x *Index) unlink(e *entry) {
	ids := x.cells[e.c]
	last := len(ids) - 1
	if e.pos != last {
		moved := ids[last]
		ids[e.pos] = moved
		x.byID[moved.id].pos = e.pos
	}
	if last == 0 {
		delete(x.cells, e.c)
		return
	}
	x.cells[e.c] = ids[:last]
}

// Nearest returns up to k ids within radiusMeters of p that accept
// takes (nil: all), nearest first (ties by id). It searches rings of
// cells outward from p's cell and stops as soon as nothing outside the
// searched box can be nearer than the k-th found or within the radius.
func (x *Index) Nearest(p Point, k int, radiusMeters float64, accept func(id string) bool) []Neighbor {
	if k <= 0 || len(x.byID) == 0 || p.Validate() != nil || !(radiusMeters >= 0) {
		return nil
	}
	s := search{x: x, p: p, k: k, radius: radiusMeters, accept: accept, center: x.cellOf(p)}
	for r := int32(0); ; r++ {
		if s.ringCost(r) > len(x.cells) {
			s.scanRest(r)
			break
		}
		s.ring(r)
		if s.done(r) {
			break
		}
	}
	return s.best
}

// search is one Nearest query.
type search struct {
	x      *Index
	p      Point
	k      int
	radius float64
	accept func(string) bool
	center cell
	best   []Neighbor // sorted, at most k
}

func (s *search) consider(slots []slot) {
	for _, sl := range slots {
		// The latitude difference alone bounds the distance from below:
		// most points of a far cell are skipped before any trigonometry.
		if near := rad(math.Abs(sl.p.Lat-s.p.Lat))*EarthRadius - 1e-6; near > s.limit() {
			continue
		}
		d := Distance(s.p, sl.p)
		if d > s.radius || (len(s.best) == s.k && !less(Neighbor{sl.id, d}, s.best[s.k-1])) {
			continue
		}
		if s.accept != nil && !s.accept(sl.id) {
			continue
		}
		n := Neighbor{ID: sl.id, Meters: d}
		i := sort.Search(len(s.best), func(i int) bool { return less(n, s.best[i]) })
		if len(s.best) < s.k {
			s.best = append(s.best, Neighbor{})
		}
		copy(s.best[i+1:], s.best[i:len(s.best)-1])
		s.best[i] = n
	}
}

// limit is the farthest a point may be and still enter the result.
func (s *search) limit() float64 {
	if len(s.best) == s.k {
		return math.Min(s.radius, s.best[s.k-1].Meters)
	}
	return s.radius
}

func less(a, b Neighbor) bool {
	if a.Meters != b.Meters {
		return a.Meters < b.Meters
	}
	return a.ID < b.ID
}

// rowSpan is the rows of the box of rings 0..r, clipped at the poles.
func (s *search) rowSpan(r int32) (lo, hi int32) {
	return max(s.center.row-r, 0), min(s.center.row+r, s.x.rows-1)
}

// fullCols reports whether the box of rings 0..r wraps all longitudes.
func (s *search) fullCols(r int32) bool { return 2*r+1 >= s.x.cols }

// ringCost is how many cells ring r holds.
func (s *search) ringCost(r int32) int {
	lo, hi := s.rowSpan(r)
	width := int(min(2*r+1, s.x.cols))
	return int(hi-lo+1) * width
}

// ring considers the cells in the box of rings 0..r but not in that of
// rings 0..r-1.
func (s *search) ring(r int32) {
	lo, hi := s.rowSpan(r)
	for row := lo; row <= hi; row++ {
		if r == 0 || row < s.center.row-(r-1) || row > s.center.row+(r-1) {
			s.cols(row, -r, r) // a new row: the box's whole width
			continue
		}
		switch {
		case s.fullCols(r - 1):
		case s.fullCols(r): // the last columns left, both sides
			s.cols(row, r, s.x.cols-r)
		default:
			s.cols(row, -r, -r)
			s.cols(row, r, r)
		}
	}
}

// cols considers row's cells from center.col+from to center.col+to,
// wrapping, each at most once.
func (s *search) cols(row, from, to int32) {
	if to-from+1 >= s.x.cols {
		from, to = -s.center.col, s.x.cols-1-s.center.col
	}
	for d := from; d <= to; d++ {
		c := cell{row: row, col: ((s.center.col+d)%s.x.cols + s.x.cols) % s.x.cols}
		if ids, ok := s.x.cells[c]; ok {
			s.consider(ids)
		}
	}
}

// inBox reports whether c is in the box of rings 0..r.
func (s *search) inBox(c cell, r int32) bool {
	if r < 0 {
		return false
	}
	if lo, hi := s.rowSpan(r); c.row < lo || c.row > hi {
		return false
	}
	if s.fullCols(r) {
		return true
	}
	d := (c.col - s.center.col + s.x.cols) % s.x.cols
	return d <= r || s.x.cols-d <= r
}

// scanRest considers every occupied cell outside the box of rings
// 0..r-1: cheaper than ring r once rings outgrow the occupied cells.
func (s *search) scanRest(r int32) {
	for c, ids := range s.x.cells {
		if !s.inBox(c, r-1) {
			s.consider(ids)
		}
	}
}

// done reports whether nothing outside the box of rings 0..r can enter
// the result.
func (s *search) done(r int32) bool {
	bound := s.outsideBound(r)
	if math.IsInf(bound, 1) {
		return true
	}
	bound -= 1e-6 // the bound and Distance round differently
	if bound > s.radius {
		return true
	}
	return len(s.best) == s.k && bound > s.best[s.k-1].Meters
}

// outsideBound is a lower bound of the distance from p to any point
// outside the box of rings 0..r: past its south or north edge the
// latitude difference alone, past its east or west edge the distance to
// the edge meridian's great circle, asin(cos φ · sin Δλ).
func (s *search) outsideBound(r int32) float64 {
	bound := math.Inf(1)
	lo, hi := s.rowSpan(r)
	if lo > 0 {
		south := float64(lo)*s.x.latDeg - 90
		bound = math.Min(bound, rad(s.p.Lat-south)*EarthRadius)
	}
	if hi < s.x.rows-1 {
		north := float64(hi+1)*s.x.latDeg - 90
		bound = math.Min(bound, rad(north-s.p.Lat)*EarthRadius)
	}
	if !s.fullCols(r) {
		lng := s.p.Lng + 180 // p's longitude in the grid's frame, [0, 360]
		west := lng - float64(s.center.col-r)*s.x.lngDeg
		east := float64(s.center.col+r+1)*s.x.lngDeg - lng
		dLng := math.Min(90, math.Min(west, east))
		bound = math.Min(bound, EarthRadius*math.Asin(math.Cos(rad(s.p.Lat))*math.Sin(rad(dLng))))
	}
	return math.Max(0, bound)
}
