package dispatch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBucket pins the event budget's arithmetic: it starts full, refills
// at its rate, never holds more than its burst, and asks its shape once.
func TestBucket(t *testing.T) {
	const s = int64(time.Second)
	tests := []struct {
		name      string
		perSecond float64
		burst     int
		at        []int64 // take times, ns
		want      []bool
	}{
		{name: "full burst then refused", perSecond: 1, burst: 3,
			at: []int64{s, s, s, s}, want: []bool{true, true, true, false}},
		{name: "refills at the rate", perSecond: 2, burst: 1,
			at: []int64{s, s, s + s/4, s + s/2}, want: []bool{true, false, false, true}},
		{name: "never more than the burst", perSecond: 10, burst: 2,
			at: []int64{s, s, 100 * s, 100 * s, 100 * s}, want: []bool{true, true, true, true, false}},
		{name: "a clock at the epoch still counts as taken", perSecond: 1, burst: 1,
			at: []int64{0, 0}, want: []bool{true, false}},
		{name: "time going back refills nothing", perSecond: 1, burst: 1,
			at: []int64{10 * s, 5 * s, 10 * s}, want: []bool{true, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bucket
			asked := 0
			shape := func() (float64, int) {
				asked++
				return tc.perSecond, tc.burst
			}
			for i, now := range tc.at {
				require.Equal(t, tc.want[i], b.take(now, shape), "take %d at %d ns", i, now)
			}
			require.Equal(t, 1, asked)
		})
	}
}
