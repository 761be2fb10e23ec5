package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/transport"
)

// Positions carries driver positions between nodes, best-effort (the
// broker).
type Positions interface {
	LocationSubject() string
	PublishBestEffort(subject string, data []byte) error
	SubscribeBestEffort(subject string, handle func(data []byte)) (stop func(), err error)
}

// Emitter sends one event to rooms of a namespace, the payload encoded
// once. ServerEmitter is the transport's; tests record.
type Emitter interface {
	Emit(ns string, rooms []string, event string, payload json.RawMessage) error
}

// ServerEmitter emits through a transport server.
type ServerEmitter struct{ Srv *transport.Server }

// Emit implements Emitter.
func (e ServerEmitter) Emit(ns string, rooms []string, event string, payload json.RawMessage) error {
	return e.Srv.Of(ns).To(rooms...).Emit(event, payload)
}

// Locations shows driver positions on the orders they carry: a position
// is published to every node, and each node emits it to the order rooms
// of its own sockets (the customers watching). Best-effort: no eventId,
// no seq, no redelivery.
type Locations struct {
	positions Positions
	emitter   Emitter
	log       *zap.Logger
}

// NewLocations returns positions over the broker's best-effort subjects,
// shown through emitter; start it with Run.
func NewLocations(positions Positions, emitter Emitter, log *zap.Logger) *Locations {
	return &Locations{positions: positions, emitter: emitter, log: log}
}

// locationMsg is a driver position travelling between nodes.
// OrderIDs repeats the legs' ids for nodes of the previous version.
type locationMsg struct {
	Tenant   string    `json:"tenant"`
	DriverID string    `json:"driverId,omitempty"`
	OrderIDs []string  `json:"orderIds"`
	Legs     []Leg     `json:"legs,omitempty"`
	Location Location  `json:"location"`
	At       time.Time `json:"at"`
}

// Publish sends a position to every node, this one included.
func (l *Locations) Publish(_ context.Context, tenant, driverID string, legs []Leg, loc Location, at time.Time) error {
	ids := make([]string, len(legs))
	for i, g := range legs {
		ids[i] = g.OrderID
	}
	data, err := json.Marshal(locationMsg{Tenant: tenant, DriverID: driverID, OrderIDs: ids, Legs: legs, Location: loc, At: at})
	if err != nil {
		return err
	}
	return l.positions.PublishBestEffort(l.positions.LocationSubject(), data)
}

// Run shows every node's positions to this node's sockets until ctx
// ends.
func (l *Locations) Run(ctx context.Context) error {
	stop, err := l.positions.SubscribeBestEffort(l.positions.LocationSubject(), l.onLocation)
	if err != nil {
		return fmt.Errorf("subscribe to positions: %w", err)
	}
	defer stop()
	<-ctx.Done()
	return nil
}

func (l *Locations) onLocation(data []byte) {
	var m locationMsg
	if err := json.Unmarshal(data, &m); err != nil {
		l.log.Warn("undecodable position", zap.Error(err))
		return
	}
	if len(m.Legs) == 0 { // from a node of the previous version
		for _, id := range m.OrderIDs {
			m.Legs = append(m.Legs, Leg{OrderID: id})
		}
	}
	if err := l.Show(m.Tenant, m.Legs, m.Location, m.At); err != nil {
		l.log.Debug("route position", zap.Error(err))
	}
}

// Show emits a position to the rooms of the orders the driver carries,
// on this node.
func (l *Locations) Show(tenant string, legs []Leg, loc Location, at time.Time) error {
	for _, g := range legs {
		id := g.OrderID
		payload, err := json.Marshal(DriverLocation{OrderID: id, Location: loc, At: at, DistanceMeters: g.DistanceMeters, ETASeconds: g.ETASeconds})
		if err != nil {
			return fmt.Errorf("encode %s: %w", EventDriverLocation, err)
		}
		if err := l.emitter.Emit(NSCustomers, []string{OrderRoom(tenant, id)}, string(EventDriverLocation), payload); err != nil {
			return fmt.Errorf("emit %s: %w", EventDriverLocation, err)
		}
		if ce := l.log.Check(zap.DebugLevel, "event routed"); ce != nil {
			ce.Write(zap.String("event", string(EventDriverLocation)), zap.String("tenant_id", tenant), zap.String("order_id", id))
		}
	}
	return nil
}
