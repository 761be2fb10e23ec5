package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bruteNearest is the reference: every point measured, sorted.
func bruteNearest(pts map[string]Point, p Point, k int, radius float64, accept func(string) bool) []Neighbor {
	var all []Neighbor
	for id, q := range pts {
		d := Distance(p, q)
		if d <= radius && (accept == nil || accept(id)) {
			all = append(all, Neighbor{ID: id, Meters: d})
		}
	}
	sort.Slice(all, func(i, j int) bool { return less(all[i], all[j]) })
	if len(all) > k {
		all = all[:k]
	}
	return all
}

// scatter returns n points around c within spread degrees, wrapped onto
// the globe (latitudes clamped at the poles, longitudes across ±180).
func scatter(rng *rand.Rand, n int, c Point, spread float64) map[string]Point {
	pts := make(map[string]Point, n)
	for i := range n {
		lat := math.Max(-90, math.Min(90, c.Lat+(rng.Float64()*2-1)*spread))
		lng := math.Mod(c.Lng+(rng.Float64()*2-1)*spread+540, 360) - 180
		pts[fmt.Sprintf("d%d", i)] = Point{lat, lng}
	}
	return pts
}

func TestNearestMatchesBruteForce(t *testing.T) {
	everyOther := func(id string) bool { return len(id)%2 == 0 }
	tests := []struct {
		name   string
		center Point
		spread float64
		n, k   int
		radius float64
		cell   float64
		accept func(string) bool
	}{
		{"city", Point{48.85, 2.35}, 0.3, 2000, 10, 50_000, 0, nil},
		{"city, radius cuts", Point{48.85, 2.35}, 0.3, 2000, 50, 1_500, 0, nil},
		{"city, accept filters", Point{48.85, 2.35}, 0.3, 2000, 10, 50_000, 0, everyOther},
		{"k larger than n", Point{-33.9, 151.2}, 0.2, 7, 20, math.Inf(1), 0, nil},
		{"sparse: nearest far away", Point{0, 0}, 60, 50, 5, math.Inf(1), 0, nil},
		{"north pole", Point{89.99, 10}, 0.5, 500, 10, 100_000, 0, nil},
		{"south pole", Point{-90, 0}, 2, 500, 10, math.Inf(1), 0, nil},
		{"antimeridian", Point{-16.5, 179.99}, 0.3, 1000, 15, 40_000, 0, nil},
		{"antimeridian, coarse cells", Point{65, -179.9}, 3, 1000, 15, math.Inf(1), 1, nil},
		{"whole globe, huge cells", Point{0, 0}, 180, 300, 30, math.Inf(1), 45, nil},
		{"zero radius", Point{1, 1}, 0.1, 100, 3, 0, 0, nil},
		{"cells below the minimum", Point{1, 1}, 0.01, 300, 5, math.Inf(1), 1e-300, nil},
	}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ti), 42))
			pts := scatter(rng, tt.n, tt.center, tt.spread)
			x := NewIndex(tt.cell)
			for id, p := range pts {
				require.NoError(t, x.Upsert(id, p, time.Time{}))
			}
			require.Equal(t, len(pts), x.Len())
			for q := range 50 {
				p := scatter(rng, 1, tt.center, tt.spread)["d0"]
				if q == 0 {
					p = tt.center
				}
				want := bruteNearest(pts, p, tt.k, tt.radius, tt.accept)
				got := x.Nearest(p, tt.k, tt.radius, tt.accept)
				require.Equal(t, want, got, "query %d at %v", q, p)
			}
		})
	}
}

func TestIndexUpsertMovesAndRemoves(t *testing.T) {
	x := NewIndex(0)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, x.Upsert("a", Point{0, 0}, t0))
	require.NoError(t, x.Upsert("b", Point{0, 0.001}, t0))
	require.NoError(t, x.Upsert("a", Point{10, 10}, t0.Add(time.Second))) // moves cell
	require.ErrorIs(t, x.Upsert("c", Point{91, 0}, t0), ErrInvalidPoint)

	got := x.Nearest(Point{0, 0}, 1, math.Inf(1), nil)
	require.Equal(t, "b", got[0].ID)
	p, at, ok := x.Get("a")
	require.True(t, ok)
	require.Equal(t, Point{10, 10}, p)
	require.Equal(t, t0.Add(time.Second), at)

	require.Equal(t, []string{"b"}, x.RemoveSeenBefore(t0.Add(time.Second)))
	require.Equal(t, 1, x.Len())
	require.True(t, x.Remove("a"))
	require.False(t, x.Remove("a"))
	require.Empty(t, x.Nearest(Point{0, 0}, 5, math.Inf(1), nil))
	require.Empty(t, x.cells, "no empty cell is kept")
}

func TestNearestRefusesBadQueries(t *testing.T) {
	x := NewIndex(0)
	require.NoError(t, x.Upsert("a", Point{0, 0}, time.Time{}))
	for _, tc := range []struct {
		p      Point
		k      int
		radius float64
	}{
		{Point{0, 0}, 0, 10},
		{Point{0, 0}, 1, -1},
		{Point{0, 0}, 1, math.NaN()},
		{Point{100, 0}, 1, 10},
	} {
		require.Empty(t, x.Nearest(tc.p, tc.k, tc.radius, nil), "%+v", tc)
	}
}

func FuzzNearest(f *testing.F) {
	f.Add(int64(1), 10.0, 20.0, uint8(5), 3.0, 0.02)
	f.Add(int64(2), 89.9, 179.9, uint8(9), 0.5, 1.0)
	f.Add(int64(3), -90.0, -180.0, uint8(1), 20.0, 30.0)
	f.Add(int64(4), 0.0, 0.0, uint8(3), 0.001, 1e-12)
	f.Fuzz(func(t *testing.T, seed int64, lat, lng float64, k uint8, spread, cellDeg float64) {
		c := Point{lat, lng}
		if c.Validate() != nil || !(spread > 0 && spread <= 180) {
			t.Skip()
		}
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		pts := scatter(rng, 200, c, spread)
		x := NewIndex(cellDeg)
		for id, p := range pts {
			require.NoError(t, x.Upsert(id, p, time.Time{}))
		}
		radius := rng.Float64() * spread * 111_000 * 2
		want := bruteNearest(pts, c, int(k), radius, nil)
		got := x.Nearest(c, int(k), radius, nil)
		if int(k) == 0 {
			want = nil
		}
		require.Equal(t, want, got)
	})
}

// BenchmarkNearest10Of10000: 10,000 drivers over a 50 km city, the 10
// nearest of a random point within 5 km. Measured on this 2-vCPU VM (the
// one of docs/BENCHMARKS.md): 14.6 – 21.7 µs/op, 744 B/op, 5 allocs (3 runs,
// shared machine); the budget is 50 µs/op.
func BenchmarkNearest10Of10000(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := Point{48.85, 2.35}
	pts := scatter(rng, 10_000, c, 0.25)
	x := NewIndex(0)
	for id, p := range pts {
		if err := x.Upsert(id, p, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	queries := make([]Point, 1024)
	for i := range queries {
		queries[i] = scatter(rng, 1, c, 0.25)["d0"]
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if len(x.Nearest(queries[i%len(queries)], 10, 5_000, nil)) == 0 {
			b.Fatal("none found")
		}
	}
}
