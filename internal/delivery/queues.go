package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"
)

// Log is the durable, ordered log of feed records (the broker's stream).
// Positions are the log's sequence numbers: they only grow, and a record
// keeps its position for as long as it is retained.
type Log interface {
	EventSubject(tokens ...string) string
	LastPos(ctx context.Context) (uint64, error)
	Follow(ctx context.Context, after uint64, handle func(pos uint64, subject string, data []byte)) (stop func(), err error)
	Read(ctx context.Context, subjects []string, from, to uint64, handle func(pos uint64, subject string, data []byte) error) error
}

// Conn is one socket of a recipient. Deliver sends a durable event asking
// for an acknowledgement and must not block; acked runs (at most once)
// when the client acknowledges.
type Conn interface {
	Deliver(event string, payload []byte, acked func()) error
}

// Queues runs the durable per-recipient queues of the recipients
// connected to this node. It follows the whole log live; a recipient that
// connects (on this node or any) is first caught up from the log, from its
// stored cursor, and then joins the live stream, so that its events reach
// it once each, in log order, with a per-recipient seq that does not
// depend on which node delivers it.
//
// Locks: d.mu before recipient.mu; d.mu is held while one live record is
// routed, which is how a catch-up knows it has met the live stream.
//
// Goroutines: the log's follower (calls onRecord), one catch-up reader per
// recipient that is behind, and the cursor flusher; Close stops and waits
// for all of them.
type Queues struct {
	cfg    Config
	log    Log
	recips Recipients
	zl     *zap.Logger

	mu  sync.Mutex
	pos uint64 // the newest record routed live
	// byID routes a record of a user's own feed; pickups, by tenant,
	// the drivers with a zone subscription. A per-user index of its own
	// feed would hold a set for every idle socket.
	byID    map[RecipientID]*recipient
	pickups map[string]map[*recipient]struct{}
	// feedRoles is Config.Feeds inverted: the role owning a feed.
	feedRoles map[string]string

	cursors cursorBuffer

	ctx        context.Context // background work: catch-ups, flushes
	cancel     context.CancelFunc
	stopFollow func()
	wg         sync.WaitGroup
	closeOnce  sync.Once
}

// NewQueues returns the queues over log; Start it before any
// recipient attaches.
func NewQueues(cfg Config, log Log, recips Recipients, zl *zap.Logger) *Queues {
	ctx, cancel := context.WithCancel(context.Background())
	feedRoles := make(map[string]string, len(cfg.Feeds))
	for role, feed := range cfg.Feeds {
		feedRoles[feed] = role
	}
	return &Queues{
		feedRoles: feedRoles,
		cfg:       cfg.withDefaults(),
		log:       log,
		recips:    recips,
		zl:        zl,
		byID:      make(map[RecipientID]*recipient),
		pickups:   make(map[string]map[*recipient]struct{}),
		ctx:       ctx,
		cancel:    cancel,
	}
}

// Start follows the log from its current end and starts the flusher.
func (d *Queues) Start(ctx context.Context) error {
	last, err := d.log.LastPos(ctx)
	if err != nil {
		return fmt.Errorf("read log position: %w", err)
	}
	d.mu.Lock()
	d.pos = last
	d.mu.Unlock()
	stop, err := d.log.Follow(ctx, last, d.onRecord)
	if err != nil {
		return fmt.Errorf("follow log: %w", err)
	}
	d.stopFollow = stop
	d.wg.Add(1)
	go d.flushLoop()
	return nil
}

// Close stops following the log and the catch-ups, then writes every
// acknowledged cursor (bounded by ctx).
func (d *Queues) Close(ctx context.Context) {
	d.closeOnce.Do(func() {
		if d.stopFollow != nil {
			d.stopFollow()
		}
		d.cancel()
		d.wg.Wait()
		d.flush(ctx)
	})
}

// Pos returns the newest log position routed on this node.
func (d *Queues) Pos() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pos
}

// onRecord routes one live record to the recipients of its feed.
func (d *Queues) onRecord(pos uint64, subject string, data []byte) {
	var rec Record
	err := json.Unmarshal(data, &rec)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pos = pos
	if err != nil || len(rec.Body) < 2 {
		d.zl.Error("undecodable record on the log", zap.Uint64("pos", pos), zap.String("subject", subject), zap.Error(err))
		return
	}
	if rec.Feed == FeedPickups {
		for r := range d.pickups[rec.Tenant] {
			r.offerLive(pos, &rec)
		}
	} else if role, ok := d.feedRoles[rec.Feed]; ok {
		if r := d.byID[RecipientID{Tenant: rec.Tenant, Role: role, User: rec.Key}]; r != nil {
			r.offerLive(pos, &rec)
		}
	}
	if ce := d.zl.Check(zap.DebugLevel, "event routed"); ce != nil {
		ce.Write(zap.String("event", rec.Event), zap.String("tenant_id", rec.Tenant),
			zap.String("order_id", rec.OrderID), zap.Uint64("pos", pos))
	}
}

// Attach adds a socket of recipient id. The first socket of a recipient
// on this node loads its cursor and subscriptions and starts catching up;
// a further one is sent what is in flight. detach removes the socket.
func (d *Queues) Attach(ctx context.Context, id RecipientID, c Conn) (detach func(), err error) {
	feed, ok := d.cfg.Feeds[id.Role]
	if !ok {
		return nil, fmt.Errorf("no durable feed for role %q", id.Role)
	}
	if r := d.join(id, c); r != nil {
		return func() { d.detach(r, c) }, nil
	}
	// Unknown to this node: a recipient new to the service starts at the
	// log's present; a known one where it acknowledged.
	cur, subs, err := d.recips.LoadRecipient(ctx, id, Cursor{Pos: d.Pos()})
	if err != nil {
		return nil, fmt.Errorf("load recipient: %w", err)
	}
	if pending, ok := d.cursors.get(id); ok && pending.Pos > cur.Pos {
		cur = pending // acknowledged here, not yet written
	}
	r, created := d.getOrCreate(id, c, func() *recipient { return newRecipient(d, id, feed, cur, subs) })
	if created {
		d.startCatchUp(r)
	}
	return func() { d.detach(r, c) }, nil
}

// getOrCreate adds c to recipient id under d.mu: to the one running here
// if another socket of the user attached meanwhile (its loaded state is
// then dropped), else to a new one made by create, which the caller then
// catches up.
func (d *Queues) getOrCreate(id RecipientID, c Conn, create func() *recipient) (r *recipient, created bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r = d.byID[id]; r != nil {
		r.addConn(c)
		return r, false
	}
	r = create()
	r.conns = []*conn{r.newConn(c)}
	r.reading = true
	d.byID[id] = r
	if r.hasZoneSub() {
		d.indexPickups(r)
	}
	return r, true
}

// join adds c to the recipient already running here, if any.
func (d *Queues) join(id RecipientID, c Conn) *recipient {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.byID[id]
	if r != nil {
		r.addConn(c)
	}
	return r
}

func (d *Queues) detach(r *recipient, c Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.conns {
		if x.Conn == c {
			r.conns = append(r.conns[:i], r.conns[i+1:]...)
			break
		}
	}
	if len(r.conns) > 0 || r.closed {
		return
	}
	// The last socket left: the queue's state is the cursor, which the
	// flusher writes; the next attach, here or elsewhere, resumes there.
	r.closed = true
	r.unstall()
	r.queue = nil
	if d.byID[r.id] == r {
		delete(d.byID, r.id)
	}
	if m := d.pickups[r.id.Tenant]; m != nil {
		delete(m, r)
		if len(m) == 0 {
			delete(d.pickups, r.id.Tenant)
		}
	}
}

func (d *Queues) indexPickups(r *recipient) {
	m := d.pickups[r.id.Tenant]
	if m == nil {
		m = make(map[*recipient]struct{})
		d.pickups[r.id.Tenant] = m
	}
	m[r] = struct{}{}
}

// Subscribe makes recipient id hear of part of a feed from now on: an
// order's events (SubOrder) or a zone's pickups (SubZone, "" for all).
// The subscription is stored, so it holds on every node and after a
// reconnect. Subscribing again while subscribed changes nothing.
func (d *Queues) Subscribe(ctx context.Context, id RecipientID, kind, key string) error {
	return d.changeSub(ctx, id, func(r *recipient) (Subscription, bool) {
		if kind == SubZone {
			d.indexPickups(r)
		}
		return r.subscribe(kind, key, d.pos)
	})
}

// Unsubscribe ends a subscription from now on; events already queued for
// it are still delivered.
func (d *Queues) Unsubscribe(ctx context.Context, id RecipientID, kind, key string) error {
	return d.changeSub(ctx, id, func(r *recipient) (Subscription, bool) {
		return r.unsubscribe(kind, key, d.pos)
	})
}

// changeSub applies change to the attached recipient id, at the position
// routed so far (with d.mu and r.mu held), then stores what changed.
func (d *Queues) changeSub(ctx context.Context, id RecipientID, change func(*recipient) (Subscription, bool)) error {
	d.mu.Lock()
	r := d.byID[id]
	if r == nil {
		d.mu.Unlock()
		return errNotAttached
	}
	r.mu.Lock()
	sub, changed := change(r)
	r.mu.Unlock()
	d.mu.Unlock()
	if !changed {
		return nil
	}
	if err := d.recips.PutSubscription(ctx, id, sub); err != nil {
		return fmt.Errorf("store subscription: %w", err)
	}
	return nil
}

// Subscriptions returns the open subscriptions of a recipient attached
// here.
func (d *Queues) Subscriptions(id RecipientID) []Subscription {
	d.mu.Lock()
	r := d.byID[id]
	d.mu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Subscription
	for _, s := range r.subs {
		if s.Until == 0 {
			out = append(out, s)
		}
	}
	return out
}

var errNotAttached = errors.New("recipient has no socket on this node")
