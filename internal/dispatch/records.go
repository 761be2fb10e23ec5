package dispatch

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// The feeds, as the fan-out rules name them.
const (
	FeedVendor   = delivery.FeedVendor
	FeedCustomer = delivery.FeedCustomer
	FeedDriver   = delivery.FeedDriver
	FeedPickups  = delivery.FeedPickups
)

// noZone is the pickups feed key of an order without a zone. It cannot be
// a zone name (orders.ValidName) and is a valid subject token.
const noZone = "~"

// derivedID names an event derived from one order change. order:status
// carries the change's own id (the one in the order's event log); the
// others get a name-based UUID (v5) of the change id and their kind:
// every event a client receives has its own id, as clients deduplicate by
// it, and a re-rendered change gets the same ids again.
func derivedID(changeID, kind string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("dispatchd:"+changeID+":"+kind)).String()
}

// Fanout renders an outbox entry's payload, an orders.Change, into its
// records: the relay's fan-out rules.
func Fanout(payload []byte) ([]delivery.Record, time.Time, error) {
	var ch orders.Change
	if err := json.Unmarshal(payload, &ch); err != nil {
		return nil, time.Time{}, fmt.Errorf("undecodable change: %w", err)
	}
	recs, err := Records(ch)
	return recs, ch.Event.At, err
}

// Records renders a committed change into the durable records it causes:
// who hears of what.
func Records(ch orders.Change) ([]delivery.Record, error) {
	o, ev := ch.Order, ch.Event
	switch {
	case ch.Unassigned != "":
		return unassignedRecords(ch)
	case ch.Offer != nil:
		return offerRecords(ch)
	case ch.Broadcast:
		return broadcastRecords(ch)
	}
	status := OrderStatus{EventID: ev.ID, OrderID: o.ID, Status: ev.Status, DriverID: ev.DriverID, At: ev.At}
	switch ev.Status {
	case orders.Failed:
		status.Failure = o.Failure
	case orders.Assigned, orders.PickedUp, orders.InTransit:
		// Only while a driver drives to a stop: a change that ends the
		// order or gives it back has no ETA, whatever it carries.
		status.ETASeconds = ev.ETASeconds
	}
	var out []delivery.Record
	add := func(feed, key string, event Event, eventID string, body any) error {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s: %w", event, err)
		}
		out = append(out, delivery.Record{Feed: feed, Tenant: o.Tenant, Key: key, Event: string(event), EventID: eventID,
			OrderID: o.ID, Zone: o.Zone, Version: ev.Version, Body: b})
		return nil
	}
	if err := add(FeedVendor, o.VendorID, EventOrderStatus, ev.ID, status); err != nil {
		return nil, err
	}
	if o.CustomerID != "" {
		if err := add(FeedCustomer, o.CustomerID, EventOrderStatus, ev.ID, status); err != nil {
			return nil, err
		}
	}
	if err := statusRecords(ch, status, add); err != nil {
		return nil, err
	}
	return out, nil
}

// addFunc appends one record of the change being rendered.
type addFunc func(feed, key string, event Event, eventID string, body any) error

// statusRecords adds what the change's new status causes beyond the
// vendor's and customer's order:status.
func statusRecords(ch orders.Change, status OrderStatus, add addFunc) error {
	o, ev := ch.Order, ch.Event
	zone := o.Zone
	if zone == "" {
		zone = noZone
	}
	var err error
	switch ev.Status {
	case orders.Ready:
		// A new order, or one given back (unassign, reject): offered
		// again with a new eventId, so a driver list that dropped it on
		// the earlier pickup:taken adds it back. A nearest order is
		// offered ring by ring first (offerRecords).
		if o.Dispatch.Strategy != orders.StrategyNearest {
			id := derivedID(ev.ID, "available")
			err = add(FeedPickups, zone, EventPickupAvailable, id, PickupAvailable{EventID: id, Order: o})
		}
		if err == nil && ev.FromDriverID != "" {
			// The driver it was taken from stops.
			err = add(FeedDriver, ev.FromDriverID, EventOrderStatus, ev.ID, status)
		}
	case orders.Assigned:
		err = taken(ev, zone, add)
		if event, eventID, body, ok := assignedDriver(ch, status); err == nil && ok {
			err = add(FeedDriver, o.DriverID, event, eventID, body)
		}
	case orders.Failed:
		err = add(FeedDriver, o.DriverID, EventOrderStatus, ev.ID, status)
	case orders.Cancelled:
		if o.DriverID == "" {
			// Still up for grabs until now: take it off the drivers' lists.
			err = taken(ev, zone, add)
		} else {
			// The driver who had claimed it must stop.
			err = add(FeedDriver, o.DriverID, EventOrderStatus, ev.ID, status)
		}
	case orders.Delivered:
		id := derivedID(ev.ID, "delivered")
		err = add(FeedVendor, o.VendorID, EventOrderDelivered, id,
			OrderDelivered{EventID: id, OrderID: o.ID, DriverID: o.DriverID, At: ev.At})
	}
	return err
}

// taken tells the drivers who could take a ready order that it is gone:
// for a nearest order still in its rings, the rest of the ring
// (ev.Taken), else the zone's subscribers.
func taken(ev orders.Event, zone string, add addFunc) error {
	if !ev.Offered {
		id := derivedID(ev.ID, "taken")
		return add(FeedPickups, zone, EventPickupTaken, id, PickupTaken{EventID: id, OrderID: ev.OrderID})
	}
	for _, driver := range ev.Taken {
		id := derivedID(ev.ID, "taken:"+driver)
		if err := add(FeedDriver, driver, EventPickupTaken, id, PickupTaken{EventID: id, OrderID: ev.OrderID}); err != nil {
			return err
		}
	}
	return nil
}

// assignedDriver is what the driver of an assignment hears on its own
// feed, if anything: a claiming driver learns from its ack, one a
// dispatcher assigned from order:status, and the auto strategy's pick
// from order:assigned with the deadline of a reject.
func assignedDriver(ch orders.Change, status OrderStatus) (event Event, eventID string, body any, ok bool) {
	ev := ch.Event
	switch {
	case ev.RespondBy != nil:
		id := derivedID(ev.ID, "assigned")
		return EventOrderAssigned, id, OrderAssigned{EventID: id, Order: ch.Order, RespondBy: *ev.RespondBy}, true
	case ev.Actor.Role == orders.RoleDispatcher:
		return EventOrderStatus, ev.ID, status, true
	}
	return "", "", nil, false
}

// unassignedRecords renders the auto strategy's no-driver notice: the
// vendor alone hears of it, under the notice's own id.
func unassignedRecords(ch orders.Change) ([]delivery.Record, error) {
	o := ch.Order
	b, err := json.Marshal(OrderUnassigned{EventID: ch.Event.ID, OrderID: o.ID, Reason: ch.Unassigned})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", EventOrderUnassigned, err)
	}
	return []delivery.Record{{Feed: FeedVendor, Tenant: o.Tenant, Key: o.VendorID, Event: string(EventOrderUnassigned),
		EventID: ch.Event.ID, OrderID: o.ID, Zone: o.Zone, Body: b}}, nil
}

// offerRecords renders one ring of the nearest strategy: each driver of
// it hears pickup:offer on its own feed, under an id of its own.
func offerRecords(ch orders.Change) ([]delivery.Record, error) {
	o, offer := ch.Order, ch.Offer
	out := make([]delivery.Record, 0, len(offer.Drivers))
	for _, d := range offer.Drivers {
		id := derivedID(ch.Event.ID, "offer:"+d.ID)
		b, err := json.Marshal(PickupOffer{EventID: id, Order: o, ExpiresAt: offer.ExpiresAt,
			DistanceMeters: math.Round(d.Meters), Round: offer.Round})
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", EventPickupOffer, err)
		}
		out = append(out, delivery.Record{Feed: FeedDriver, Tenant: o.Tenant, Key: d.ID, Event: string(EventPickupOffer),
			EventID: id, OrderID: o.ID, Zone: o.Zone, Body: b})
	}
	return out, nil
}

// broadcastRecords renders the nearest strategy's fallback: the order
// becomes pickup:available to the zone's subscribers, like a broadcast
// order.
func broadcastRecords(ch orders.Change) ([]delivery.Record, error) {
	o := ch.Order
	zone := o.Zone
	if zone == "" {
		zone = noZone
	}
	id := derivedID(ch.Event.ID, "available")
	b, err := json.Marshal(PickupAvailable{EventID: id, Order: o})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", EventPickupAvailable, err)
	}
	return []delivery.Record{{Feed: FeedPickups, Tenant: o.Tenant, Key: zone, Event: string(EventPickupAvailable),
		EventID: id, OrderID: o.ID, Zone: o.Zone, Body: b}}, nil
}
