package hub

import (
	"context"
	"encoding/json"
	"fmt"
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

// Publisher stores records on the durable log.
type Publisher interface {
	EventSubject(tokens ...string) string
	Publish(ctx context.Context, subject, msgID string, data []byte) (seq uint64, duplicate bool, err error)
}

// Positions carries driver positions between nodes, best-effort.
type Positions interface {
	LocationSubject() string
	PublishBestEffort(subject string, data []byte) error
	SubscribeBestEffort(subject string, handle func(data []byte)) (stop func(), err error)
}

// Broker is what the cluster needs of the message broker.
type Broker interface {
	Publisher
	Positions
}

// Cluster makes one service of many nodes. The store's outbox is relayed
// to the broker's log, each change rendered into its feed records
// (restart-safe: a row is marked sent only after the broker stored all of
// its records, and a re-publish is deduplicated by message id); every
// node follows the log (Deliverer) and delivers to its own sockets.
// Tenants hand it changes through OrderChanged, which only wakes the
// relay: the change is already in the outbox.
type Cluster struct {
	hub    *Hub
	outbox Outbox
	broker Broker
	log    *zap.Logger
	wake   chan struct{}
	obs    Observer
}

// NewCluster returns a cluster router over h; start it with Run.
func NewCluster(h *Hub, outbox Outbox, broker Broker, log *zap.Logger) *Cluster {
	return &Cluster{hub: h, outbox: outbox, broker: broker, log: log, wake: make(chan struct{}, 1), obs: nopObserver{}}
}

// SetObserver makes o hear every publish; call it before Run.
func (c *Cluster) SetObserver(o Observer) { c.obs = o }

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
	return c.broker.PublishBestEffort(c.broker.LocationSubject(), data)
}

// relayBatch bounds one read of the outbox; relayPoll is how often it is
// read when nothing wakes the relay (other nodes' writes, retries).
const (
	relayBatch = 256
	relayPoll  = time.Second
)

// Run subscribes this node to positions, then relays the outbox until ctx
// ends.
func (c *Cluster) Run(ctx context.Context) error {
	stopPositions, err := c.broker.SubscribeBestEffort(c.broker.LocationSubject(), c.onLocation)
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
			c.drain(context.WithoutCancel(ctx))
			return
		case <-c.wake:
		case <-t.C:
		}
	}
}

// drainTimeout bounds the last relay at shutdown.
const drainTimeout = 5 * time.Second

// drain relays what is still in the outbox when the node stops, so that
// changes it committed reach the log now rather than when some node next
// relays (another node, or this one after a restart, would: nothing is
// lost either way).
func (c *Cluster) drain(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	for c.relayOnce(ctx) {
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
		if err := c.publish(ctx, e); err != nil {
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

// publish stores every record of one change, in order. The dispatch log
// an operator reads is written here, once per event in the cluster.
func (c *Cluster) publish(ctx context.Context, e OutboxEntry) error {
	var ch orders.Change
	if err := json.Unmarshal(e.Payload, &ch); err != nil {
		// Never valid: retrying cannot help, and it must not block the
		// changes behind it.
		c.log.Error("undecodable change in the outbox; skipped", zap.Int64("seq", e.Seq), zap.Error(err))
		return nil
	}
	recs, err := Records(ch)
	if err != nil {
		c.log.Error("render change; skipped", zap.Int64("seq", e.Seq), zap.Error(err))
		return nil
	}
	for i := range recs {
		r := &recs[i]
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode record: %w", err)
		}
		start := time.Now()
		pos, dup, err := c.broker.Publish(ctx, c.broker.EventSubject(r.subjectTokens()...), r.msgID(), data)
		c.obs.Published(time.Since(start), err)
		if err != nil {
			return err
		}
		if !dup {
			c.log.Info("event routed",
				zap.String("event", string(r.Event)),
				zap.String("tenant_id", r.Tenant),
				zap.String("order_id", r.OrderID),
				zap.String("feed", r.Feed),
				zap.Uint64("pos", pos),
				zap.Time("time", ch.Event.At))
		}
	}
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
