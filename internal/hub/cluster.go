package hub

import (
	"context"
	"encoding/json"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Positions carries driver positions between nodes, best-effort.
type Positions interface {
	LocationSubject() string
	PublishBestEffort(subject string, data []byte) error
	SubscribeBestEffort(subject string, handle func(data []byte)) (stop func(), err error)
}

// Broker is what the cluster needs of the message broker.
type Broker interface {
	delivery.Publisher
	Positions
}

// Cluster makes one service of many nodes: the outbox relay
// (delivery.Relay, with this package's fan-out rules) and driver
// positions between nodes.
type Cluster struct {
	hub    *Hub
	relay  *delivery.Relay
	broker Broker
	log    *zap.Logger
}

// NewCluster returns a cluster router over h; start it with Run.
func NewCluster(h *Hub, outbox delivery.Outbox, broker Broker, log *zap.Logger) *Cluster {
	return &Cluster{hub: h, relay: delivery.NewRelay(outbox, broker, Fanout, log), broker: broker, log: log}
}

// SetObserver makes o hear every publish; call it before Run.
func (c *Cluster) SetObserver(o delivery.Observer) { c.relay.SetObserver(o) }

// OrderChanged wakes the relay; the committed change is in the outbox.
func (c *Cluster) OrderChanged(context.Context, orders.Order, orders.Event) error {
	c.relay.Wake()
	return nil
}

// locationMsg is a driver position travelling between nodes.
type locationMsg struct {
	Tenant   string    `json:"tenant"`
	OrderIDs []string  `json:"orderIds"`
	Location Location  `json:"location"`
	At       time.Time `json:"at"`
}

// DriverLocation sends a position to every node, best-effort.
func (c *Cluster) DriverLocation(_ context.Context, tenant string, orderIDs []string, loc Location, at time.Time) error {
	data, err := json.Marshal(locationMsg{Tenant: tenant, OrderIDs: orderIDs, Location: loc, At: at})
	if err != nil {
		return err
	}
	return c.broker.PublishBestEffort(c.broker.LocationSubject(), data)
}

// Run subscribes this node to positions, then relays the outbox until ctx
// ends.
func (c *Cluster) Run(ctx context.Context) error {
	stopPositions, err := c.broker.SubscribeBestEffort(c.broker.LocationSubject(), c.onLocation)
	if err != nil {
		return err
	}
	defer stopPositions()
	c.relay.Run(ctx)
	return nil
}

func (c *Cluster) onLocation(data []byte) {
	var m locationMsg
	if err := json.Unmarshal(data, &m); err != nil {
		c.log.Warn("undecodable position", zap.Error(err))
		return
	}
	if err := c.hub.DriverLocation(context.Background(), m.Tenant, m.OrderIDs, m.Location, m.At); err != nil {
		c.log.Debug("route position", zap.Error(err))
	}
}
