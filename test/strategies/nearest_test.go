//go:build unix

package strategies

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Defaults of the nearest strategy (CONTRACT.md v2): offers to 3 drivers
// at a time, 3 rounds, then a broadcast.
const (
	offerSize   = 3
	offerRounds = 3
	// offerTTL is the short offer lifetime of the expiry test.
	offerTTL = 2 * time.Second
	// deadlineSlack is how late after expiresAt the next ring may come:
	// the contract's second, and as much again for a loaded machine.
	deadlineSlack = 2 * time.Second
)

// offer is a pickup:offer payload.
type offer struct {
	EventID        string    `json:"eventId"`
	Seq            uint64    `json:"seq"`
	Order          order     `json:"order"`
	ExpiresAt      time.Time `json:"expiresAt"`
	DistanceMeters float64   `json:"distanceMeters"`
	Round          int       `json:"round"`
}

// awaitRing waits for round's offers of o at drivers first..first+2 (from
// 1), checks them, and returns them with their arrival times.
func awaitRing(t *testing.T, ds []*peer, o order, first, round int, ttl time.Duration, why string) ([]offer, []time.Time) {
	t.Helper()
	offers := make([]offer, 0, offerSize)
	arrived := make([]time.Time, 0, offerSize)
	for i := first; i < first+offerSize; i++ {
		r := ds[i-1].await("pickup:offer", forOrder(o.ID), eventWait, why)
		var of offer
		require.NoError(t, json.Unmarshal(r.body, &of), "pickup:offer %s", r.body)
		assert.NotEmpty(t, of.EventID, "pickup:offer is durable: eventId")
		assert.NotZero(t, of.Seq, "pickup:offer is durable: seq")
		assert.Equal(t, round, of.Round, "%s's offer round", driverName(i))
		assert.InDelta(t, float64(i)*spacing, of.DistanceMeters, 5, "%s's distanceMeters", driverName(i))
		assert.WithinDuration(t, r.at.Add(ttl), of.ExpiresAt, deadlineSlack, "%s's expiresAt is about %s away", driverName(i), ttl)
		assert.Equal(t, orders.Ready, of.Order.Status)
		offers, arrived = append(offers, of), append(arrived, r.at)
	}
	// The drivers of the next rings have not been offered it yet.
	for _, d := range ds[first+offerSize-1:] {
		d.quiet("pickup:offer", forOrder(o.ID), 0, "only this ring is offered the order")
	}
	return offers, arrived
}

// awaitBroadcast checks that every driver hears the order as a broadcast.
func awaitBroadcast(t *testing.T, ds []*peer, o order, why string) {
	t.Helper()
	for _, d := range ds {
		d.await("pickup:available", forOrder(o.ID), eventWait, why)
	}
}

// TestNearest: a nearest order is offered to the 3 nearest drivers, and
// nobody else hears of it; another driver's claim is refused (conflict).
// When the whole ring declines, the next 3 get it; after 3 rounds every
// subscriber gets pickup:available. A claim by an offered driver wins and
// the rest of its ring hears pickup:taken. With nobody within the radius
// the order is broadcast at once.
func TestNearest(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := startServer(t, bin, be)
		ds := drivers(t, s, fleetSize, true, nil)
		vendor := connect(t, s, orders.RoleVendor, "v1")

		o := create(t, vendor, "nearest", "nearest")
		awaitRing(t, ds, o, 1, 1, 30*time.Second, "the 3 nearest drivers are offered a nearest order")
		ds[9].mustFail("pickup:claim", map[string]any{"orderId": o.ID}, string(orders.CodeConflict))
		for round := 1; round <= offerRounds; round++ {
			first := (round-1)*offerSize + 1
			if round > 1 {
				awaitRing(t, ds, o, first, round, 30*time.Second, "a ring that declined passes the order to the next")
			}
			ds[first+offerSize].quiet("pickup:available", forOrder(o.ID), 0, "no broadcast during the offer rounds")
			for i := first; i < first+offerSize; i++ {
				ds[i-1].mustOK("pickup:decline", map[string]any{"orderId": o.ID, "reason": "busy"}, nil)
			}
		}
		awaitBroadcast(t, ds, o, "after the last round the order falls back to a broadcast")
		for _, d := range ds[offerRounds*offerSize:] {
			d.quiet("pickup:offer", forOrder(o.ID), 0, "no fourth round")
		}
		var won struct {
			Order order `json:"order"`
		}
		ds[19].mustOK("pickup:claim", map[string]any{"orderId": o.ID}, &won)
		assert.Equal(t, driverName(20), won.Order.DriverID, "any driver may claim the broadcast order")

		taken := create(t, vendor, "nearest", "nearest")
		awaitRing(t, ds, taken, 1, 1, 30*time.Second, "the 3 nearest drivers are offered a nearest order")
		ds[1].mustOK("pickup:claim", map[string]any{"orderId": taken.ID}, &won)
		assert.Equal(t, orders.Assigned, won.Order.Status)
		assert.Equal(t, driverName(2), won.Order.DriverID)
		ds[0].await("pickup:taken", forOrder(taken.ID), eventWait, "an offered driver hears the order was taken")
		ds[2].await("pickup:taken", forOrder(taken.ID), eventWait, "an offered driver hears the order was taken")
		ds[0].mustFail("pickup:claim", map[string]any{"orderId": taken.ID}, string(orders.CodeAlreadyClaimed))

		// 20 km south of the pickup, out of every driver's 5 km.
		var far struct {
			Order order `json:"order"`
		}
		vendor.mustOK("order:create", newOrderAt("c2", "nearest", pickupLat-20_000/metresPerDegreeLat), &far)
		awaitBroadcast(t, ds, far.Order, "with nobody within the radius a nearest order is broadcast at once")
		for _, d := range ds {
			d.quiet("pickup:offer", forOrder(far.Order.ID), 0, "nobody is near enough for an offer")
		}
	})
}

// TestNearestExpiry: with nearest as the tenant's default and 2 s offers,
// an offer nobody answers moves to the next ring within a second or two
// of its expiresAt, round after round, then falls back to a broadcast.
func TestNearestExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := startServer(t, bin, be, "DISPATCH_STRATEGY=nearest", "DISPATCH_OFFER_TTL="+offerTTL.String())
		ds := drivers(t, s, fleetSize, true, nil)
		vendor := connect(t, s, orders.RoleVendor, "v1")

		o := create(t, vendor, "", "nearest")
		offers, _ := awaitRing(t, ds, o, 1, 1, offerTTL, "the 3 nearest drivers are offered the order")
		for round := 2; round <= offerRounds; round++ {
			expired := offers[0].ExpiresAt
			var arrived []time.Time
			offers, arrived = awaitRing(t, ds, o, (round-1)*offerSize+1, round, offerTTL, "an expired offer passes the order to the next ring")
			for _, at := range arrived {
				assert.False(t, at.Before(expired.Add(-100*time.Millisecond)), "round %d came %s before the last one expired", round, expired.Sub(at))
				assert.WithinDuration(t, expired, at, deadlineSlack, "round %d is due at the expiry of round %d", round, round-1)
			}
		}
		expired := offers[0].ExpiresAt
		awaitBroadcast(t, ds, o, "after the last round expired the order falls back to a broadcast")
		assert.False(t, time.Now().Before(expired.Add(-100*time.Millisecond)), "the broadcast came before the last round expired")
	})
}
