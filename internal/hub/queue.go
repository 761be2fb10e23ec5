package hub

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"
)

// entry is one event in a recipient's queue, acknowledged or not.
type entry struct {
	pos   uint64
	seq   uint64
	event Event
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
	d    *Deliverer
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

func newRecipient(d *Deliverer, id RecipientID, feed string, cur Cursor, subs []Subscription) *recipient {
	return &recipient{
		d:      d,
		id:     id,
		feed:   feed,
		subs:   subs,
		cursor: cur,
		last:   cur,
	}
}

// accepts reports whether the record at pos is this recipient's. Records
// of its own vendor or driver feed always are; a customer's only for the
// orders it watched, a driver's pickups only for its zones, each from its
// subscription's position on.
func (r *recipient) accepts(pos uint64, rec *Record) bool {
	if rec.Tenant != r.id.Tenant {
		return false
	}
	switch rec.Feed {
	case FeedVendor, FeedDriver:
		return rec.Feed == r.feed && rec.Key == r.id.User
	case FeedCustomer:
		return rec.Feed == r.feed && rec.Key == r.id.User && r.subscribed(SubOrder, rec.OrderID, pos)
	case FeedPickups:
		return r.feed == FeedDriver && (r.subscribed(SubZone, "", pos) || rec.Zone != "" && r.subscribed(SubZone, rec.Zone, pos))
	}
	return false
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
		r.d.cfg.Observer.Delivered(string(e.event), e.replay)
		if err := c.Deliver(string(e.event), payload, acked); err != nil {
			// The socket is going away; the event stays queued.
			if ce := r.d.zl.Check(zap.DebugLevel, "deliver"); ce != nil {
				ce.Write(zap.String("tenant_id", r.id.Tenant), zap.String("event", string(e.event)), zap.Error(err))
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

// Reasons a catch-up's read ends early.
var (
	errQueueFull = errors.New("queue full")
	errGone      = errors.New("recipient gone")
)

// catchUpRetry spaces out reads of a log that fails.
const catchUpRetry = 500 * time.Millisecond

func (d *Deliverer) startCatchUp(r *recipient) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.catchUp(r)
	}()
}

// catchUp reads r's events from the log until it has met the live
// stream (then r is live) or the queue is full (an ack restarts it).
func (d *Deliverer) catchUp(r *recipient) {
	for {
		to := d.Pos()
		r.mu.Lock()
		from, subjects, closed := r.last.Pos+1, r.subjects(), r.closed
		r.mu.Unlock()
		if closed {
			return
		}
		err := d.log.Read(d.ctx, subjects, from, to, func(pos uint64, subject string, data []byte) error {
			var rec Record
			if err := json.Unmarshal(data, &rec); err != nil || len(rec.Body) < 2 {
				d.zl.Error("undecodable record on the log", zap.Uint64("pos", pos), zap.String("subject", subject), zap.Error(err))
				return nil
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			switch {
			case r.closed:
				return errGone
			case pos <= r.last.Pos || !r.accepts(pos, &rec):
				return nil
			case len(r.queue) >= d.cfg.QueueLimit:
				return errQueueFull
			}
			r.push(pos, &rec, true)
			r.pump()
			return nil
		})
		switch {
		case errors.Is(err, errGone):
			return
		case errors.Is(err, errQueueFull):
			// Acks may have drained it while the read stopped; they
			// did not start another catch-up, as this one ran.
			r.mu.Lock()
			again := !r.closed && len(r.queue) <= d.cfg.QueueLimit/2
			r.reading = again
			r.mu.Unlock()
			if !again {
				return
			}
			continue
		case err != nil:
			if d.ctx.Err() != nil {
				return
			}
			d.zl.Warn("catch up from the log; will retry", zap.String("tenant_id", r.id.Tenant), zap.Error(err))
			select {
			case <-d.ctx.Done():
				return
			case <-time.After(catchUpRetry):
			}
			continue
		}
		// Everything up to `to` is read. If nothing was routed since,
		// the router takes over from here with no gap and no overlap.
		d.mu.Lock()
		r.mu.Lock()
		done := d.pos == to
		if done {
			r.live, r.reading = true, false
			if r.last.Pos < to {
				// Nothing of r's in (last, to]: later catch-ups start here.
				r.last.Pos = to
			}
			if len(r.queue) == 0 && r.cursor.Pos < to {
				// Everything of r's up to `to` is acknowledged: so
				// the next attach, anywhere, need not read it again.
				r.cursor.Pos = to
				d.cursors.put(r.id, r.cursor)
			}
		}
		r.mu.Unlock()
		d.mu.Unlock()
		if done {
			return
		}
	}
}
