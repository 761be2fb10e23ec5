package hub

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Feeds are the parts of the durable log. Every durable event is stored
// once per feed it belongs to, not once per recipient: a pickup offered to
// hundreds of drivers is one record on the tenant's pickups feed, and each
// driver's cursor walks that feed.
const (
	FeedVendor   = "v" // key: vendor id; all of that vendor's events
	FeedCustomer = "c" // key: customer id; filtered by the orders watched
	FeedDriver   = "d" // key: driver id; events for that driver alone
	FeedPickups  = "p" // key: zone (noZone for none); filtered by zone subscriptions
)

// noZone is the pickups feed key of an order without a zone. It cannot be
// a zone name (orders.ValidName) and is a valid subject token.
const noZone = "~"

// Record is one durable event as stored on a feed: who it is for, and the
// client payload without its per-recipient seq.
type Record struct {
	Feed    string          `json:"feed"`
	Tenant  string          `json:"tenant"`
	Key     string          `json:"key"`
	Event   Event           `json:"event"`
	EventID string          `json:"eventId"`
	OrderID string          `json:"orderId"`
	Zone    string          `json:"zone,omitempty"`
	Body    json.RawMessage `json:"body"`
}

// subjectTokens are the tokens of the record's subject below the log's
// event prefix: tenant, feed, key.
func (r *Record) subjectTokens() []string {
	return []string{r.Tenant, r.Feed, r.Key}
}

// msgID deduplicates a retried publish of this record: one event may be
// stored on several feeds, never twice on one.
func (r *Record) msgID() string { return r.EventID + "|" + r.Feed + "|" + r.Key }

// derivedID names an event derived from one order change. order:status
// carries the change's own id (the one in the order's event log); the
// others get a name-based UUID (v5) of the change id and their kind:
// every event a client receives has its own id, as clients deduplicate by
// it, and a re-rendered change gets the same ids again.
func derivedID(changeID, kind string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("dispatchd:"+changeID+":"+kind)).String()
}

// Records renders a committed change into the durable records it causes:
// who hears of what.
func Records(ch orders.Change) ([]Record, error) {
	o, ev := ch.Order, ch.Event
	status := OrderStatus{EventID: ev.ID, OrderID: o.ID, Status: ev.Status, DriverID: ev.DriverID, At: ev.At}
	var out []Record
	add := func(feed, key string, event Event, eventID string, body any) error {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s: %w", event, err)
		}
		out = append(out, Record{Feed: feed, Tenant: o.Tenant, Key: key, Event: event, EventID: eventID,
			OrderID: o.ID, Zone: o.Zone, Body: b})
		return nil
	}
	zone := o.Zone
	if zone == "" {
		zone = noZone
	}
	if err := add(FeedVendor, o.VendorID, EventOrderStatus, ev.ID, status); err != nil {
		return nil, err
	}
	if o.CustomerID != "" {
		if err := add(FeedCustomer, o.CustomerID, EventOrderStatus, ev.ID, status); err != nil {
			return nil, err
		}
	}
	var err error
	switch ev.Status {
	case orders.Ready:
		id := derivedID(ev.ID, "available")
		err = add(FeedPickups, zone, EventPickupAvailable, id, PickupAvailable{EventID: id, Order: o})
	case orders.Assigned:
		id := derivedID(ev.ID, "taken")
		err = add(FeedPickups, zone, EventPickupTaken, id, PickupTaken{EventID: id, OrderID: o.ID})
	case orders.Cancelled:
		if o.DriverID == "" {
			// Still up for grabs until now: take it off the drivers' lists.
			id := derivedID(ev.ID, "taken")
			err = add(FeedPickups, zone, EventPickupTaken, id, PickupTaken{EventID: id, OrderID: o.ID})
		} else {
			// The driver who had claimed it must stop.
			err = add(FeedDriver, o.DriverID, EventOrderStatus, ev.ID, status)
		}
	case orders.Delivered:
		id := derivedID(ev.ID, "delivered")
		err = add(FeedVendor, o.VendorID, EventOrderDelivered, id,
			OrderDelivered{EventID: id, OrderID: o.ID, DriverID: o.DriverID, At: ev.At})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Namespace is the namespace of the record's recipients.
func (r *Record) Namespace() string {
	switch r.Feed {
	case FeedVendor:
		return NSVendors
	case FeedCustomer:
		return NSCustomers
	}
	return NSDrivers
}

// Payload is the client payload of the record for the recipient's seq.
func (r *Record) Payload(seq uint64) []byte { return withSeq(r.Body, seq) }

// withSeq returns body, a JSON object, with "seq" added as its last field.
// Only the seq differs between recipients, so this is the one copy each
// recipient costs.
func withSeq(body json.RawMessage, seq uint64) []byte {
	out := make([]byte, 0, len(body)+24)
	out = append(out, body[:len(body)-1]...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	return append(out, '}')
}
