package hub

import (
	"context"
	"encoding/json"
	"slices"
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

// LogMessage is one record to store on the durable log.
type LogMessage struct {
	Subject string
	ID      string // deduplicates a retried publish
	Data    []byte
}

// PublishResult is one LogMessage's outcome.
type PublishResult struct {
	Pos       uint64
	Duplicate bool
	Err       error
}

// Publisher stores records on the durable log.
type Publisher interface {
	EventSubject(tokens ...string) string
	// PublishBatch stores msgs pipelined, in the order given; one
	// message's failure does not stop the others.
	PublishBatch(ctx context.Context, msgs []LogMessage) []PublishResult
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

	// The relay's mark of its last round, still running while the next
	// round publishes (one at a time); only the relay goroutine touches
	// these.
	marking  map[int64]bool // seqs published, not yet marked sent
	markDone chan error     // nil when no mark is running
}

// NewCluster returns a cluster router over h; start it with Run.
func NewCluster(h *Hub, outbox Outbox, broker Broker, log *zap.Logger) *Cluster {
	return &Cluster{hub: h, outbox: outbox, broker: broker, log: log, wake: make(chan struct{}, 1), obs: nopObserver{},
		marking: make(map[int64]bool)}
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
		c.awaitMark()
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
	c.awaitMark()
}

// relayOnce publishes one batch of the outbox; true means more may be
// waiting. The batch takes at most one change per order (the next waits
// for the next round, so one order's changes reach the log in order), and
// is published in waves, pipelined: a change's records for different feeds
// go in the same wave, and a record goes a wave after an earlier record of
// the change on the same feed (a vendor's order:status before its
// order:delivered), so that what one recipient receives keeps its order
// even when a publish fails. A change is marked sent once all of its
// records are stored; one that failed is published again whole (its
// stored records are dropped as duplicates).
func (c *Cluster) relayOnce(ctx context.Context) bool {
	entries, err := c.outbox.PendingOutbox(ctx, relayBatch)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("read outbox", zap.Error(err))
		}
		return false
	}
	// Changes published last round are stored even if their mark has
	// not landed yet: the order's next change may go now.
	entries = slices.DeleteFunc(entries, func(e OutboxEntry) bool { return c.marking[e.Seq] })
	jobs, deferred := c.render(entries)
	failed := c.publishWaves(ctx, jobs)
	sent := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		if j.ok {
			sent = append(sent, j.entry.Seq)
		}
	}
	markFailed := c.awaitMark() != nil
	c.startMark(ctx, sent)
	return !failed && !markFailed && (deferred || len(entries) == relayBatch)
}

// startMark marks seqs sent in the background, so that the next round's
// publish overlaps this write: the relay is one loop, and waiting for
// the mark's commit was a fifth of every round under load.
func (c *Cluster) startMark(ctx context.Context, seqs []int64) {
	if len(seqs) == 0 {
		return
	}
	for _, q := range seqs {
		c.marking[q] = true
	}
	done := make(chan error, 1)
	c.markDone = done
	go func() { done <- c.outbox.MarkSent(context.WithoutCancel(ctx), seqs, time.Now()) }()
}

// awaitMark waits for the running mark, if any, and returns its error.
func (c *Cluster) awaitMark() error {
	if c.markDone == nil {
		return nil
	}
	err := <-c.markDone
	if err != nil {
		// Published but not marked: the next round republishes them and
		// the broker drops the duplicates.
		c.log.Error("mark outbox sent", zap.Error(err))
	}
	clear(c.marking)
	c.markDone = nil
	return err
}

// relayJob is one change being relayed.
type relayJob struct {
	entry OutboxEntry
	at    time.Time
	recs  []Record
	msgs  []LogMessage
	waves []int // msgs[i] goes in wave waves[i]
	ok    bool  // every record so far stored
}

// render turns entries into jobs, one per order (deferred: some entries
// wait for a later round).
func (c *Cluster) render(entries []OutboxEntry) (jobs []*relayJob, deferred bool) {
	taken := make(map[[2]string]bool, len(entries))
	for _, e := range entries {
		key := [2]string{e.Tenant, e.OrderID}
		if taken[key] {
			deferred = true
			continue
		}
		taken[key] = true
		j := &relayJob{entry: e, ok: true}
		jobs = append(jobs, j)
		var ch orders.Change
		if err := json.Unmarshal(e.Payload, &ch); err != nil {
			// Never valid: retrying cannot help, and it must not block
			// the changes behind it.
			c.log.Error("undecodable change in the outbox; skipped", zap.Int64("seq", e.Seq), zap.Error(err))
			continue
		}
		recs, err := Records(ch)
		if err != nil {
			c.log.Error("render change; skipped", zap.Int64("seq", e.Seq), zap.Error(err))
			continue
		}
		j.at, j.recs = ch.Event.At, recs
		perFeed := make(map[[2]string]int, len(recs))
		for i := range recs {
			r := &recs[i]
			data, err := json.Marshal(r)
			if err != nil {
				c.log.Error("encode record; change skipped", zap.Int64("seq", e.Seq), zap.Error(err))
				j.recs, j.msgs, j.waves = nil, nil, nil
				break
			}
			feed := [2]string{r.Feed, r.Key}
			j.waves = append(j.waves, perFeed[feed])
			perFeed[feed]++
			j.msgs = append(j.msgs, LogMessage{Subject: c.broker.EventSubject(r.subjectTokens()...), ID: r.msgID(), Data: data})
		}
	}
	return jobs, deferred
}

// publishWaves stores the jobs' records wave by wave; failed reports that
// some record was not stored.
func (c *Cluster) publishWaves(ctx context.Context, jobs []*relayJob) (failed bool) {
	type owner struct {
		j   *relayJob
		rec int
	}
	for wave := 0; ; wave++ {
		var msgs []LogMessage
		var owners []owner
		for _, j := range jobs {
			if !j.ok {
				continue
			}
			for i, w := range j.waves {
				if w == wave {
					msgs = append(msgs, j.msgs[i])
					owners = append(owners, owner{j, i})
				}
			}
		}
		if len(msgs) == 0 {
			// A change's waves are numbered without gaps: none in this
			// one means none later.
			return failed
		}
		start := time.Now()
		results := c.broker.PublishBatch(ctx, msgs)
		took := time.Since(start)
		for i, res := range results {
			j, rec := owners[i].j, owners[i].rec
			c.obs.Published(took, res.Err)
			if res.Err != nil {
				if !failed && ctx.Err() == nil {
					c.log.Warn("publish change; will retry", zap.String("tenant_id", j.entry.Tenant),
						zap.String("order_id", j.entry.OrderID), zap.Error(res.Err))
				}
				j.ok, failed = false, true
				continue
			}
			if !res.Duplicate {
				// The dispatch log an operator reads: once per event in
				// the cluster, by the node that stored it.
				r := &j.recs[rec]
				c.log.Info("event routed",
					zap.String("event", string(r.Event)),
					zap.String("tenant_id", r.Tenant),
					zap.String("order_id", r.OrderID),
					zap.String("feed", r.Feed),
					zap.Uint64("pos", res.Pos),
					zap.Time("time", j.at))
			}
		}
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
