package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Emitter delivers one event to the members of rooms in a namespace,
// encoding the payload once. The transport implements it.
type Emitter interface {
	Emit(ns string, rooms []string, event string, payload json.RawMessage) error
}

// Hub sends the best-effort events (driver positions) to the rooms of
// this node's sockets. Durable events take the Deliverer's queues.
type Hub struct {
	emitter Emitter
	log     *zap.Logger
}

// New returns a hub emitting through emitter.
func New(emitter Emitter, log *zap.Logger) *Hub {
	return &Hub{emitter: emitter, log: log}
}

// routed is one event bound for rooms of one namespace.
type routed struct {
	ns    string
	rooms []string
	event Event
	body  any
}

// DriverLocation sends a best-effort position to the rooms of the orders
// the driver carries.
func (h *Hub) DriverLocation(ctx context.Context, tenant string, orderIDs []string, loc Location, at time.Time) error {
	for _, id := range orderIDs {
		d := routed{ns: NSCustomers, rooms: []string{OrderRoom(tenant, id)}, event: EventDriverLocation,
			body: DriverLocation{OrderID: id, Location: loc, At: at}}
		if err := h.emit(ctx, tenant, id, d); err != nil {
			return err
		}
	}
	return nil
}

func (h *Hub) emit(_ context.Context, tenant, orderID string, d routed) error {
	payload, err := json.Marshal(d.body)
	if err != nil {
		return fmt.Errorf("encode %s: %w", d.event, err)
	}
	if err := h.emitter.Emit(d.ns, d.rooms, string(d.event), payload); err != nil {
		return fmt.Errorf("emit %s: %w", d.event, err)
	}
	if ce := h.log.Check(zap.DebugLevel, "event routed"); ce != nil {
		ce.Write(zap.String("event", string(d.event)), zap.String("tenant_id", tenant), zap.String("order_id", orderID))
	}
	return nil
}
