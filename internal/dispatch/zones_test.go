package dispatch

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestZoneSubscriptionCap: a driver's open zone subscriptions are capped
// (each is stored and scanned for every pickup); past the cap
// pickups:subscribe answers conflict until one is ended.
func TestZoneSubscriptionCap(t *testing.T) {
	obs := &countingObserver{}
	e := newEnv(t, Config{MaxZones: 3, Observer: obs})
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	for _, z := range []string{"z1", "z2", "z3"} {
		driver.mustOK("pickups:subscribe", map[string]any{"zone": z})
	}
	driver.mustFail(orders.CodeConflict, "pickups:subscribe", map[string]any{"zone": "z4"})
	driver.mustFail(orders.CodeConflict, "pickups:subscribe", map[string]any{}) // every zone is one more
	driver.mustOK("pickups:subscribe", map[string]any{"zone": "z2"})            // already open: not one more
	assert.Equal(t, 2, obs.count("/drivers", "pickups:subscribe", orders.CodeConflict), "refusals are counted")

	driver.mustOK("pickups:unsubscribe", map[string]any{"zone": "z1"})
	driver.mustOK("pickups:subscribe", map[string]any{"zone": "z4"})
	driver.mustFail(orders.CodeConflict, "pickups:subscribe", map[string]any{"zone": "z5"})

	// The cap holds across reconnects: the subscriptions are the user's.
	require.NoError(t, driver.c.Close())
	again := e.connect(t, "acme", orders.RoleDriver, "d1")
	again.mustFail(orders.CodeConflict, "pickups:subscribe", map[string]any{"zone": "z5"})
	// Another driver has its own.
	e.connect(t, "acme", orders.RoleDriver, "d2").mustOK("pickups:subscribe", map[string]any{"zone": "z5"})
}

// TestPickupsUnsubscribe: pickups:unsubscribe {zone} ends that zone's
// pickup:available, for good (it is stored like the subscription and
// survives a reconnect); without a zone it ends every pickup
// subscription of the driver.
func TestPickupsUnsubscribe(t *testing.T) {
	e := newEnv(t, Config{})
	vendor := e.connect(t, "acme", orders.RoleVendor, "v1")
	post := func(zone string) string {
		n := newOrder("c1")
		n["zone"] = zone
		return vendor.mustOK("order:create", n).Order.ID
	}
	driver := e.connect(t, "acme", orders.RoleDriver, "d1")
	// A redelivery is allowed (an ack younger than the cursor flush may
	// be lost when the socket closes, and clients deduplicate by
	// eventId): skip events seen already.
	seen := map[string]bool{}
	expectPickup := func(u *user, id string) {
		t.Helper()
		for {
			var pa PickupAvailable
			u.expect("pickup:available", &pa)
			if seen[pa.EventID] {
				continue
			}
			seen[pa.EventID] = true
			assert.Equal(t, id, pa.Order.ID)
			return
		}
	}
	// quiet: nothing new for d (redeliveries of seen events aside).
	quiet := func(u *user, d time.Duration) {
		t.Helper()
		deadline := time.After(d)
		for {
			select {
			case ev := <-u.c.Events:
				var pa PickupAvailable
				require.NoError(t, json.Unmarshal(ev.Args[0], &pa))
				require.True(t, seen[pa.EventID], "unexpected %s %s", ev.Name, ev.Args)
				_ = u.c.Ack(ev)
			case <-deadline:
				return
			}
		}
	}
	driver.mustOK("pickups:subscribe", map[string]any{"zone": "north"})
	driver.mustOK("pickups:subscribe", map[string]any{"zone": "south"})
	expectPickup(driver, post("north"))

	driver.mustOK("pickups:unsubscribe", map[string]any{"zone": "north"})
	driver.mustOK("pickups:unsubscribe", map[string]any{"zone": "east"}) // not subscribed: nothing to end
	post("north")
	// Events arrive in order: the south pickup is the next one, so the
	// north one was not sent.
	expectPickup(driver, post("south"))

	require.NoError(t, driver.c.Close())
	driver = e.connect(t, "acme", orders.RoleDriver, "d1")
	post("north")
	expectPickup(driver, post("south"))

	// Without a zone: every pickup subscription ends, "every zone" too.
	driver.mustOK("pickups:subscribe", map[string]any{})
	driver.mustOK("pickups:unsubscribe")
	post("south")
	post("west")
	quiet(driver, 200*time.Millisecond)
	require.NoError(t, driver.c.Close())
	driver = e.connect(t, "acme", orders.RoleDriver, "d1")
	quiet(driver, 200*time.Millisecond)

	driver.mustFail(orders.CodeInvalidArgument, "pickups:unsubscribe", map[string]any{"zone": "a b"})
	driver.mustFail(orders.CodeInvalidArgument, "pickups:unsubscribe", map[string]any{"zone": "n\x00"})
}
