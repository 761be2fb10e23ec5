package hub

import (
	"context"
	"encoding/json"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// OutboxEntry is a committed change waiting to be published.
type OutboxEntry struct {
	Seq     int64
	Tenant  string
	OrderID string
	EventID string
	Payload []byte // JSON of an orders.Change
}

// Outbox is the store's queue of committed changes.
type Outbox interface {
	PendingOutbox(ctx context.Context, limit int) ([]OutboxEntry, error)
	MarkSent(ctx context.Context, seqs []int64, now time.Time) error
}

// Broker carries changes between nodes: durably (the stream every node
// consumes) and best-effort (driver positions).
type Broker interface {
	Subject(tokens ...string) string
	Publish(ctx context.Context, subject, msgID string, data []byte) (seq uint64, duplicate bool, err error)
	Consume(ctx context.Context, handle func(subject string, data []byte)) (stop func(), err error)
	PublishBestEffort(subject string, data []byte) error
	SubscribeBestEffort(subject string, handle func(data []byte)) (stop func(), err error)
}

// Cluster makes one service of many nodes. The store's outbox is relayed
// to the broker's stream (restart-safe: a row is marked sent only after
// the broker stored it, and a re-publish is deduplicated by event id);
// every node consumes the stream and routes each change to its own
// sockets. Tenants hand it changes through OrderChanged, which only wakes
// the relay: the change is already in the outbox.
type Cluster struct {
	hub    *Hub
	outbox Outbox
	broker Broker
	log    *zap.Logger
	wake   chan struct{}
}

// NewCluster returns a cluster router over h; start it with Run.
func NewCluster(h *Hub, outbox Outbox, broker Broker, log *zap.Logger) *Cluster {
	return &Cluster{hub: h, outbox: outbox, broker: broker, log: log, wake: make(chan struct{}, 1)}
}

// OrderChanged wakes the relay; the committed change is in the outbox.
func (c *Cluster) OrderChanged(context.Context, orders.Order, orders.Event) error {
	select {
	case c.wake <- struct{}{}:
	default:
	}
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
	return c.broker.PublishBestEffort(c.broker.Subject("loc"), data)
}

// relayBatch bounds one read of the outbox; relayPoll is how often it is
// read when nothing wakes the relay (other nodes' writes, retries).
const (
	relayBatch = 256
	relayPoll  = time.Second
)

// Run subscribes this node to the stream and to positions, then relays
// the outbox until ctx ends. Subscribing first means this node also sees
// what it relays right after a restart.
func (c *Cluster) Run(ctx context.Context) error {
	stopChanges, err := c.broker.Consume(ctx, c.onChange)
	if err != nil {
		return err
	}
	defer stopChanges()
	stopPositions, err := c.broker.SubscribeBestEffort(c.broker.Subject("loc"), c.onLocation)
	if err != nil {
		return err
	}
	defer stopPositions()
	c.relay(ctx)
	return nil
}

func (c *Cluster) relay(ctx context.Context) {
	t := time.NewTicker(relayPoll)
	defer t.Stop()
	for {
		for c.relayOnce(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-t.C:
		}
	}
}

// relayOnce publishes one batch in outbox order; true means a full batch
// went out and more may be waiting. It stops at the first failure, so one
// order's changes are never published out of order.
func (c *Cluster) relayOnce(ctx context.Context) bool {
	entries, err := c.outbox.PendingOutbox(ctx, relayBatch)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("read outbox", zap.Error(err))
		}
		return false
	}
	sent := make([]int64, 0, len(entries))
	for _, e := range entries {
		if _, _, err := c.broker.Publish(ctx, c.broker.Subject(e.Tenant, "order", e.OrderID), e.EventID, e.Payload); err != nil {
			if ctx.Err() == nil {
				c.log.Warn("publish change; will retry", zap.String("tenant_id", e.Tenant), zap.String("order_id", e.OrderID), zap.Error(err))
			}
			break
		}
		sent = append(sent, e.Seq)
	}
	if err := c.outbox.MarkSent(context.WithoutCancel(ctx), sent, time.Now()); err != nil {
		// Published but not marked: the next round republishes them and
		// the broker drops the duplicates.
		c.log.Error("mark outbox sent", zap.Error(err))
		return false
	}
	return len(sent) == relayBatch
}

func (c *Cluster) onChange(_ string, data []byte) {
	var ch orders.Change
	if err := json.Unmarshal(data, &ch); err != nil {
		c.log.Error("undecodable change on the stream", zap.Error(err))
		return
	}
	if err := c.hub.OrderChanged(context.Background(), ch.Order, ch.Event); err != nil {
		c.log.Error("route change", zap.String("tenant_id", ch.Order.Tenant), zap.String("order_id", ch.Order.ID), zap.Error(err))
	}
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
