package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// testListPages: keyset pagination (Filter.After) over 1,000 orders of
// one vendor, interleaved with another vendor's and with claims, returns
// each of them exactly once, in id order, whatever the page size; the
// other filters hold on every page.
func testListPages(t *testing.T, s *Store) {
	ctx := context.Background()
	var want, ready []string
	for i := range 1000 {
		o := createT(t, s, "t1", "v1", newOrder("c1", ""))
		want = append(want, o.ID)
		if i%3 == 0 {
			createT(t, s, "t1", "v2", newOrder("c1", ""))
		}
		if i%4 == 0 {
			_, _, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, orders.Actor{Role: orders.RoleDriver, ID: "d1"}, testTime())
			require.NoError(t, err)
		} else {
			ready = append(ready, o.ID)
		}
	}
	pages := func(f Filter) []string {
		var got []string
		for range 2000 { // bounds a loop that would never end
			list, err := s.ListOrders(ctx, "t1", f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(list), f.Limit)
			if len(list) == 0 {
				return got
			}
			for _, o := range list {
				got = append(got, o.ID)
			}
			f.After = list[len(list)-1].ID
		}
		t.Fatal("pagination does not end")
		return nil
	}
	for _, size := range []int{1, 37, 500, 1000} {
		assert.Equal(t, want, pages(Filter{VendorID: "v1", Limit: size}), "page size %d", size)
	}
	assert.Equal(t, ready, pages(Filter{VendorID: "v1", Status: orders.Ready, Limit: 99}))

	// After an id that is no order's, the listing goes on from where that
	// id sorts.
	list, err := s.ListOrders(ctx, "t1", Filter{VendorID: "v1", After: want[499] + "0", Limit: 2})
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{want[500], want[501]}, []string{list[0].ID, list[1].ID})
}
