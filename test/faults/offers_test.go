//go:build unix

package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// The vendor's pickup (vendor.create) is at 52.5, 13.4; 0.009° of latitude
// is about 1 km.
const pickupLat, pickupLng = 52.5, 13.4

func never(offer) (time.Time, bool) { return time.Time{}, false }

// TestOfferOutlivesItsNode: node A creates a nearest order and sends its
// first ring, then is killed with SIGKILL before the ring expires. Node B
// must move the order to the next ring within a second of the expiry,
// and the claim there wins.
func TestOfferOutlivesItsNode(t *testing.T) {
	urls := requireEnv(t, "DISPATCH_TEST_DATABASE_URL", "DISPATCH_TEST_NATS_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ttl = 2 * time.Second
	secret, tenant := testproc.RandomHex(t, 32), "offer-"+testproc.RandomHex(t, 3)
	stream, prefix := sharedStream(t, urls[1])
	env := nearestEnv(t, secret, testproc.FreshSchema(t, urls[0], "offers"), urls[1], stream, prefix, ttl, 1, 3)
	a := testproc.StartWith(t, bin, testproc.Options{Name: "node-a", Env: env()})
	b := testproc.StartWith(t, bin, testproc.Options{Name: "node-b", Env: env()})
	sign := func(role orders.Role, sub string) string { return testproc.Sign(t, secret, tenant, role, sub) }

	near := startOfferDriver(t, ctx, b.URL, sign(orders.RoleDriver, "near"), "near", pickupLat+0.009, pickupLng, never)
	next := startOfferDriver(t, ctx, b.URL, sign(orders.RoleDriver, "next"), "next", pickupLat+0.018, pickupLng,
		func(offer) (time.Time, bool) { return time.Now(), true })
	waitForFleet(t, ctx, a.URL, sign(orders.RoleDispatcher, "op"), "near", "next")

	id, _, err := newVendor(a.URL, sign(orders.RoleVendor, "v1")).create(ctx, 1)
	require.NoError(t, err)
	var first offer
	require.Eventually(t, func() bool {
		offers, _, _ := near.snapshot()
		if len(offers) == 0 {
			return false
		}
		first = offers[0]
		return true
	}, 10*time.Second, 5*time.Millisecond, "the nearest driver never got the first ring")
	require.Equal(t, id, first.OrderID)
	require.Equal(t, 1, first.Round)
	a.Kill(t)
	t.Logf("ring 1 reached the nearest driver %s before its expiry; node A killed", time.Until(first.ExpiresAt).Round(time.Millisecond))

	var second offer
	require.Eventually(t, func() bool {
		offers, _, _ := next.snapshot()
		if len(offers) == 0 {
			return false
		}
		second = offers[0]
		return true
	}, ttl+5*time.Second, 5*time.Millisecond, "ring 2 never came")
	assert.Equal(t, id, second.OrderID)
	assert.Equal(t, 2, second.Round)
	late := second.At.Sub(first.ExpiresAt)
	t.Logf("ring 2 arrived %s after ring 1 expired, from node B", late.Round(time.Millisecond))
	assert.Less(t, late, time.Second, "the contract: within a second of the deadline")
	assert.Greater(t, late, -100*time.Millisecond, "not before ring 1 expired")
	require.Eventually(t, func() bool {
		_, claims, _ := next.snapshot()
		code, ok := claims[id]
		return ok && code == ""
	}, 10*time.Second, 10*time.Millisecond, "the second ring's claim must win")
	_, _, errs := next.snapshot()
	assert.Empty(t, errs)
}

// TestOfferRacesHaveOneWinner races, 1,000 times, the first ring's late
// claims against its expiry and the second ring's immediate claims, with
// the drivers and the vendor split over two nodes: every order must end
// with exactly one winning claim, the driver the order names.
func TestOfferRacesHaveOneWinner(t *testing.T) {
	urls := requireEnv(t, "DISPATCH_TEST_DATABASE_URL", "DISPATCH_TEST_NATS_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	const (
		orderCount = 1000
		pace       = 15 * time.Millisecond
		ttl        = time.Second
	)
	secret, tenant := testproc.RandomHex(t, 32), "race-"+testproc.RandomHex(t, 3)
	stream, prefix := sharedStream(t, urls[1])
	env := nearestEnv(t, secret, testproc.FreshSchema(t, urls[0], "offers"), urls[1], stream, prefix, ttl, 3, 2)
	nodes := []*testproc.Proc{
		testproc.StartWith(t, bin, testproc.Options{Name: "node-a", Env: env()}),
		testproc.StartWith(t, bin, testproc.Options{Name: "node-b", Env: env()}),
	}
	sign := func(role orders.Role, sub string) string { return testproc.Sign(t, secret, tenant, role, sub) }

	// Ring 1 claims around its expiry, ±150 ms; ring 2 claims at once.
	var jitterMu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	policy := func(o offer) (time.Time, bool) {
		if o.Round > 1 {
			return time.Now(), true
		}
		jitterMu.Lock()
		defer jitterMu.Unlock()
		return o.ExpiresAt.Add(time.Duration(rng.IntN(300)-150) * time.Millisecond), true
	}
	var drivers []*offerDriver
	var ids []string
	for i := range 6 {
		id := fmt.Sprintf("d%d", i+1)
		ids = append(ids, id)
		// d1–d3 about 1 km away, d4–d6 about 2 km: the two rings.
		lat := pickupLat + 0.009*float64(1+i/3) + 0.0005*float64(i%3)
		drivers = append(drivers, startOfferDriver(t, ctx, nodes[i%2].URL, sign(orders.RoleDriver, id), id, lat, pickupLng, policy))
	}
	for _, n := range nodes {
		waitForFleet(t, ctx, n.URL, sign(orders.RoleDispatcher, "op"), ids...)
	}

	vendors := []*vendor{newVendor(nodes[0].URL, sign(orders.RoleVendor, "v1")), newVendor(nodes[1].URL, sign(orders.RoleVendor, "v1"))}
	created := make([]string, 0, orderCount)
	start := time.Now()
	for i := range orderCount {
		id, _, err := vendors[i%2].create(ctx, i)
		require.NoError(t, err)
		created = append(created, id)
		time.Sleep(pace)
	}
	t.Logf("created %d nearest orders in %s over two nodes", orderCount, time.Since(start).Round(time.Millisecond))

	winners := func() (map[string][]string, int) {
		out := map[string][]string{}
		claims := 0
		for _, d := range drivers {
			_, cs, _ := d.snapshot()
			for order, code := range cs {
				claims++
				if code == "" {
					out[order] = append(out[order], d.id)
				}
			}
		}
		return out, claims
	}
	require.Eventually(t, func() bool {
		w, _ := winners()
		return len(w) == orderCount
	}, 60*time.Second, 100*time.Millisecond, "every order must be won")
	// Let the last claims of the last orders answer.
	time.Sleep(ttl + 500*time.Millisecond)

	w, claims := winners()
	byRing := map[int]int{}
	for _, order := range created {
		require.Len(t, w[order], 1, "order %s: exactly one winning claim, got %v", order, w[order])
		o := getOrder(t, ctx, vendors[0], order)
		assert.Equal(t, orders.Assigned, o.Status, order)
		assert.Equal(t, w[order][0], o.DriverID, "order %s names its winner", order)
		byRing[ringOf(w[order][0])]++
	}
	var refused = map[orders.Code]int{}
	for _, d := range drivers {
		offers, cs, errs := d.snapshot()
		assert.Empty(t, errs, d.id)
		for _, code := range cs {
			if code != "" {
				refused[code]++
			}
		}
		t.Logf("%s: %d offers, %d claims", d.id, len(offers), len(cs))
	}
	t.Logf("%d orders, %d claims: won by ring 1 %d, ring 2 %d; refusals %v", orderCount, claims, byRing[1], byRing[2], refused)
	assert.Positive(t, byRing[1], "some late first-ring claims win")
	assert.Positive(t, byRing[2], "some expiries move on first")
}

// ringOf is the ring a driver of TestOfferRacesHaveOneWinner is in.
func ringOf(driver string) int {
	if driver <= "d3" {
		return 1
	}
	return 2
}
