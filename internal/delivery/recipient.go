package delivery

import (
	"encoding/json"
	"slices"
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
	conns   []*conn
	subs    []Subscription
	cursor  Cursor // acknowledged
	last    Cursor // the newest queued event, or cursor when none
	queue   []*entry
	sent    int
	live    bool
	reading bool // a catch-up runs
	closed  bool // every socket left
	// stalled: counted as stalled (stall.go). Beside the other flags, so
	// the struct fits the 240 B size class, not 256: one per user.
	stalled bool
	// fullSince: when the window last filled with no ack moving it since
	// (zero while it has room).
	fullSince time.Time
	// extra is how far past the window probes have sent (probe); probing
	// is its timer while the window is full.
	extra   int
	probing *time.Timer
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

// conn is one socket of the recipient. Every event from seq from on is
// sent on it, in order (what was in flight when it attached is resent to
// it), except the seqs in missed, whose Deliver failed; so an ack it gives
// for seq N covers from..N but missed, and nothing before from: older
// events went out on other sockets only.
type conn struct {
	Conn
	from   uint64
	missed []uint64 // ascending; usually empty
}

// addConn adds a socket and sends it what is in flight. Called with d.mu
// held.
func (r *recipient) addConn(c Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sc := r.newConn(c)
	r.conns = append(r.conns, sc)
	for _, e := range r.queue[:r.sent] {
		r.send(e, sc)
	}
}

// newConn starts c at the oldest event it will be sent: the head of the
// queue, else the next event queued.
func (r *recipient) newConn(c Conn) *conn {
	if len(r.queue) > 0 {
		return &conn{Conn: c, from: r.queue[0].seq}
	}
	return &conn{Conn: c, from: r.last.Seq + 1}
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

// pump sends queued events while the window (and what probes added to
// it) has room; a window left full is probed after ProbeAfter.
func (r *recipient) pump() {
	for r.sent < len(r.queue) && r.sent < r.d.cfg.Window+r.extra {
		e := r.queue[r.sent]
		e.sent = time.Now()
		r.send(e, r.conns...)
		r.sent++
	}
	if r.sent >= r.d.cfg.Window && r.fullSince.IsZero() {
		r.fullSince = time.Now()
	}
	if !r.fullSince.IsZero() && r.probing == nil && r.sent < len(r.queue) && r.extra < r.d.cfg.Window {
		r.probing = time.AfterFunc(r.d.cfg.ProbeAfter, r.probe)
	}
}

// probe sends one more event past a window that stayed full: the client
// may ignore every event in flight (a stock client acks only those it
// handles), and a later one it handles receipts them all (acks are
// cumulative). At most a second window goes out so, then it waits.
func (r *recipient) probe() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.probing = nil
	if r.closed || r.fullSince.IsZero() {
		return
	}
	// From what is in flight, not from the count kept since the last
	// ack: an ack of part of a probed stretch resets the count while
	// more than a window may still be out, and counting up from zero
	// again sent nothing for that many probes.
	r.extra = max(r.extra, r.sent-r.d.cfg.Window) + 1
	r.pump()
}

// stopProbing ends the probes: the window moved, or the recipient left.
// Called with r.mu held.
func (r *recipient) stopProbing() {
	r.extra = 0
	if r.probing != nil {
		r.probing.Stop()
		r.probing = nil
	}
}

// send hands e to conns; its payload is made once, for all of the user's
// sockets, the ack callback per socket (an ack is cumulative on its own
// socket only).
func (r *recipient) send(e *entry, conns ...*conn) {
	seq := e.seq
	payload := withSeq(e.body, seq)
	for _, c := range conns {
		r.d.cfg.Observer.Delivered(e.event, e.replay)
		if err := c.Deliver(e.event, payload, func() { r.ack(c, seq) }); err != nil {
			c.missed = append(c.missed, seq)
			// The socket is going away; the event stays queued.
			if ce := r.d.zl.Check(zap.DebugLevel, "deliver"); ce != nil {
				ce.Write(zap.String("tenant_id", r.id.Tenant), zap.String("event", e.event), zap.Error(err))
			}
		}
	}
}

// ack records the client's receipt, on c, of seq and of every earlier
// event sent on c (delivery on one socket is in order, and a client acks
// only the events it handles), then moves the cursor over every
// acknowledged event at the head of the queue.
func (r *recipient) ack(c *conn, seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || len(r.queue) == 0 || seq < r.queue[0].seq {
		return
	}
	i := int(seq - r.queue[0].seq)
	if i >= r.sent {
		return // never sent: not an ack of ours
	}
	lo := 0
	if c.from > r.queue[0].seq {
		lo = int(c.from - r.queue[0].seq)
	}
	if lo > i {
		return // older than c: never sent on it
	}
	now := time.Now()
	for _, e := range r.queue[lo : i+1] {
		if !e.acked && !slices.Contains(c.missed, e.seq) {
			e.acked = true
			r.d.cfg.Observer.Acked(now.Sub(e.sent))
		}
	}
	n := 0
	for n < r.sent && r.queue[n].acked {
		n++
	}
	if n == 0 {
		return
	}
	r.advance(n)
}

// advance drops the n acknowledged events at the head of the queue, moves
// the cursor past them and sends what the window now has room for.
func (r *recipient) advance(n int) {
	head := r.queue[n-1]
	r.cursor = Cursor{Pos: head.pos, Seq: head.seq}
	clear(r.queue[:n])
	r.queue = r.queue[n:]
	r.sent -= n
	for _, c := range r.conns {
		if len(c.missed) > 0 {
			c.missed = slices.DeleteFunc(c.missed, func(s uint64) bool { return s <= head.seq })
		}
	}
	r.d.cursors.put(r.id, r.cursor)
	r.unstall()
	r.pump()
	if !r.live && !r.reading && len(r.queue) <= r.d.cfg.QueueLimit/2 {
		r.reading = true
		r.d.startCatchUp(r)
	}
}
