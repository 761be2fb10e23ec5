package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Emitter delivers one event to the members of rooms in a namespace,
// encoding the payload once. The transport implements it.
type Emitter interface {
	Emit(ns string, rooms []string, event string, payload json.RawMessage) error
}

// Hub decides who hears of every order change and hands the events to the
// Emitter. Callers invoke it only after the change has committed.
type Hub struct {
	emitter Emitter
	log     *zap.Logger
}

// New returns a hub emitting through emitter.
func New(emitter Emitter, log *zap.Logger) *Hub {
	return &Hub{emitter: emitter, log: log}
}

// delivery is one event bound for rooms of one namespace.
type delivery struct {
	ns    string
	rooms []string
	event Event
	body  any
}

// OrderChanged routes the events that follow a committed change of o
// (its creation or a transition), described by ev.
func (h *Hub) OrderChanged(ctx context.Context, o orders.Order, ev orders.Event) error {
	var errs []error
	for _, d := range route(o, ev) {
		if err := h.emit(ctx, o.Tenant, o.ID, d); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("route %s of order %s: %v", ev.Status, o.ID, errs)
	}
	return nil
}

// DriverLocation sends a best-effort position to the rooms of the orders
// the driver carries.
func (h *Hub) DriverLocation(ctx context.Context, tenant string, orderIDs []string, loc Location, at time.Time) error {
	for _, id := range orderIDs {
		d := delivery{ns: NSCustomers, rooms: []string{OrderRoom(tenant, id)}, event: EventDriverLocation,
			body: DriverLocation{OrderID: id, Location: loc, At: at}}
		if err := h.emit(ctx, tenant, id, d); err != nil {
			return err
		}
	}
	return nil
}

func (h *Hub) emit(_ context.Context, tenant, orderID string, d delivery) error {
	payload, err := json.Marshal(d.body)
	if err != nil {
		return fmt.Errorf("encode %s: %w", d.event, err)
	}
	if err := h.emitter.Emit(d.ns, d.rooms, string(d.event), payload); err != nil {
		return fmt.Errorf("emit %s: %w", d.event, err)
	}
	// Locations are too frequent for the dispatch log.
	if d.event != EventDriverLocation {
		h.log.Info("event routed",
			zap.String("event", string(d.event)),
			zap.String("tenant_id", tenant),
			zap.String("order_id", orderID),
			zap.String("ns", d.ns),
			zap.Strings("room", d.rooms),
			zap.Time("time", time.Now()))
	}
	return nil
}

// route lists the deliveries that follow ev on o: who hears of what.
func route(o orders.Order, ev orders.Event) []delivery {
	t := o.Tenant
	status := OrderStatus{EventID: ev.ID, OrderID: o.ID, Status: ev.Status, DriverID: ev.DriverID, At: ev.At}
	out := []delivery{
		{ns: NSVendors, rooms: []string{VendorRoom(t, o.VendorID)}, event: EventOrderStatus, body: status},
		{ns: NSCustomers, rooms: []string{OrderRoom(t, o.ID)}, event: EventOrderStatus, body: status},
	}
	pickups := []string{PickupsRoom(t, "")}
	if o.Zone != "" {
		pickups = append(pickups, PickupsRoom(t, o.Zone))
	}
	switch ev.Status {
	case orders.Ready:
		out = append(out, delivery{ns: NSDrivers, rooms: pickups, event: EventPickupAvailable,
			body: PickupAvailable{EventID: ev.ID, Order: o}})
	case orders.Assigned:
		out = append(out, delivery{ns: NSDrivers, rooms: pickups, event: EventPickupTaken,
			body: PickupTaken{EventID: ev.ID, OrderID: o.ID}})
	case orders.Cancelled:
		if o.DriverID == "" {
			// Still up for grabs until now: take it off the drivers' lists.
			out = append(out, delivery{ns: NSDrivers, rooms: pickups, event: EventPickupTaken,
				body: PickupTaken{EventID: ev.ID, OrderID: o.ID}})
		} else {
			// The driver who had claimed it must stop.
			out = append(out, delivery{ns: NSDrivers, rooms: []string{DriverRoom(t, o.DriverID)}, event: EventOrderStatus, body: status})
		}
	case orders.Delivered:
		out = append(out, delivery{ns: NSVendors, rooms: []string{VendorRoom(t, o.VendorID)}, event: EventOrderDelivered,
			body: OrderDelivered{EventID: ev.ID, OrderID: o.ID, DriverID: o.DriverID, At: ev.At}})
	}
	return out
}
