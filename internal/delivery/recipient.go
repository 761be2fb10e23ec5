package delivery

import (
	"encoding/json"
	"sync"
	"time"

	"go.uber.org/zap"
)

// entry is one event in a recipient's queue, acknowledged or not.
type entry struct {
	pos   uint64
	seq   uint64
	event string
	body  json.RawMessage // without seq
	acked bool
	// replay: read from the log by a catch-up; sent: when it first went
	// out (for the ack latency).
	replay bool
	sent   time.Time
}

// recipient is the queue of one user on this node.
//
// The queue holds, in log order, the recipient's events from just after
// its cursor; queue[:sent] went out to every socket and wait for an ack.
// Seqs are consecutive: an event's seq is its predecessor's plus one,
// counted from the stored cursor, so they are the same whichever node
// computes them. While live, the router appends new records; otherwise
// (just attached, or fallen QueueLimit behind) one catch-up reads them
// from the log until it meets the live stream.
type recipient struct {
	d    *Queues
	id   RecipientID
	feed string // its own feed (FeedVendor, FeedDriver, FeedCustomer)

	mu      sync.Mutex
	conns   []Conn
	subs    []Subscription
	cursor  Cursor // acknowledged
	last    Cursor // the newest queued event, or cursor when none
	queue   []*entry
	sent    int
	live    bool
	reading bool // a catch-up runs
	closed  bool // every socket left
}

func newRecipient(d *Queues, id RecipientID, feed string, cur Cursor, subs []Subscription) *recipient {
	return &recipient{
		d:      d,
		id:     id,
		feed:   feed,
		subs:   subs,
		cursor: cur,
		last:   cur,
	}
}

// addConn adds a socket and sends it what is in flight. Called with d.mu
// held.
func (r *recipient) addConn(c Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns = append(r.conns, c)
	for _, e := range r.queue[:r.sent] {
		r.send(e, c)
	}
}

// accepts reports whether the record at pos is this recipient's. Records
// of its own feed (vendor, driver, or any role's added later) always are; a customer's only for the
// orders it watched, a driver's pickups only for its zones, each from its
// subscription's position on.
func (r *recipient) accepts(pos uint64, rec *Record) bool {
	if rec.Tenant != r.id.Tenant {
		return false
	}
	switch rec.Feed {
	case FeedCustomer:
		return rec.Feed == r.feed && rec.Key == r.id.User && r.subscribed(SubOrder, rec.OrderID, pos)
	case FeedPickups:
		return r.feed == FeedDriver && (r.subscribed(SubZone, "", pos) || rec.Zone != "" && r.subscribed(SubZone, rec.Zone, pos))
	default:
		// Any other feed is some role's own, keyed by user id: a role
		// added to Config.Feeds needs no rule here.
		return rec.Feed == r.feed && rec.Key == r.id.User
	}
}

func (r *recipient) subscribed(kind, key string, pos uint64) bool {
	for _, s := range r.subs {
		if s.Kind == kind && s.Key == key && s.From < pos && (s.Until == 0 || pos <= s.Until) {
			return true
		}
	}
	return false
}

func (r *recipient) hasZoneSub() bool {
	for _, s := range r.subs {
		if s.Kind == SubZone {
			return true
		}
	}
	return false
}

// subscribe opens kind/key from pos on, unless it is open already.
func (r *recipient) subscribe(kind, key string, pos uint64) (Subscription, bool) {
	for i, s := range r.subs {
		if s.Kind == kind && s.Key == key {
			if s.Until == 0 {
				return s, false
			}
			r.subs[i] = Subscription{Kind: kind, Key: key, From: pos}
			return r.subs[i], true
		}
	}
	s := Subscription{Kind: kind, Key: key, From: pos}
	r.subs = append(r.subs, s)
	return s, true
}

// unsubscribe ends an open kind/key subscription at pos.
func (r *recipient) unsubscribe(kind, key string, pos uint64) (Subscription, bool) {
	for i, s := range r.subs {
		if s.Kind == kind && s.Key == key && s.Until == 0 {
			// From < pos keeps the interval well formed when nothing was
			// routed in between.
			r.subs[i].Until = max(pos, s.From+1)
			return r.subs[i], true
		}
	}
	return Subscription{}, false
}

// subjects are the log subjects a catch-up reads.
func (r *recipient) subjects() []string {
	out := []string{r.d.log.EventSubject(r.id.Tenant, r.feed, r.id.User)}
	if r.hasZoneSub() {
		out = append(out, r.d.log.EventSubject(r.id.Tenant, FeedPickups, "*"))
	}
	return out
}

// offerLive takes a record from the router. Called with d.mu held.
func (r *recipient) offerLive(pos uint64, rec *Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.live || r.closed || pos <= r.last.Pos || !r.accepts(pos, rec) {
		return
	}
	if len(r.queue) >= r.d.cfg.QueueLimit {
		// Too far behind to hold more: the rest waits in the log.
		r.live = false
		return
	}
	r.push(pos, rec, false)
	r.pump()
}

func (r *recipient) push(pos uint64, rec *Record, replay bool) {
	e := &entry{pos: pos, seq: r.last.Seq + 1, event: rec.Event, body: rec.Body, replay: replay}
	r.queue = append(r.queue, e)
	r.last = Cursor{Pos: pos, Seq: e.seq}
}

// pump sends queued events while the window has room.
func (r *recipient) pump() {
	for r.sent < len(r.queue) && r.sent < r.d.cfg.Window {
		e := r.queue[r.sent]
		e.sent = time.Now()
		r.send(e, r.conns...)
		r.sent++
	}
}

// send hands e to conns; its payload and ack callback are made once, for
// all of the user's sockets.
func (r *recipient) send(e *entry, conns ...Conn) {
	seq := e.seq
	payload := withSeq(e.body, seq)
	acked := func() { r.ack(seq) }
	for _, c := range conns {
		r.d.cfg.Observer.Delivered(e.event, e.replay)
		if err := c.Deliver(e.event, payload, acked); err != nil {
			// The socket is going away; the event stays queued.
			if ce := r.d.zl.Check(zap.DebugLevel, "deliver"); ce != nil {
				ce.Write(zap.String("tenant_id", r.id.Tenant), zap.String("event", e.event), zap.Error(err))
			}
		}
	}
}

// ack records the client's receipt of seq and moves the cursor over every
// acknowledged event at the head of the queue.
func (r *recipient) ack(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || len(r.queue) == 0 || seq < r.queue[0].seq {
		return
	}
	i := int(seq - r.queue[0].seq)
	if i >= r.sent {
		return // never sent: not an ack of ours
	}
	if e := r.queue[i]; !e.acked {
		e.acked = true
		r.d.cfg.Observer.Acked(time.Since(e.sent))
	}
	n := 0
	for n < r.sent && r.queue[n].acked {
		n++
	}
	if n == 0 {
		return
	}
	head := r.queue[n-1]
	r.cursor = Cursor{Pos: head.pos, Seq: head.seq}
	clear(r.queue[:n])
	r.queue = r.queue[n:]
	r.sent -= n
	r.d.cursors.put(r.id, r.cursor)
	r.pump()
	if !r.live && !r.reading && len(r.queue) <= r.d.cfg.QueueLimit/2 {
		r.reading = true
		r.d.startCatchUp(r)
	}
}
