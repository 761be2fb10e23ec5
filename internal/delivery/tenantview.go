package delivery

import (
	"sort"
	"time"
)

// TenantView is one tenant's part of this node's queues, for its
// dispatchers' board (board:stats): never another tenant's recipients.
type TenantView struct {
	Recipients int // with a socket on this node
	Queued     int // events held, acknowledged or not
	InFlight   int // sent and not yet acknowledged
	Behind     int // recipients reading from the log, not live
	Stalled    []StalledRecipient
}

// StalledRecipient is a recipient whose window has stayed full, with no
// ack moving it, for Config.StallAfter: a client that handles none of
// the events it is sent, usually.
type StalledRecipient struct {
	Role        string
	User        string
	OldestEvent string    // the type of the oldest unacknowledged event
	OldestSeq   uint64    // and its seq
	Since       time.Time // when the window filled
	Queued      int
	InFlight    int
}

// TenantView counts tenant's recipients on this node and lists its
// stalled ones, oldest stall first. Like Stats it takes each of those
// recipients' locks briefly: call it on request, not per event.
func (d *Queues) TenantView(tenant string) TenantView {
	d.mu.Lock()
	var rs []*recipient
	for id, r := range d.byID {
		if id.Tenant == tenant {
			rs = append(rs, r)
		}
	}
	d.mu.Unlock()
	v := TenantView{Recipients: len(rs), Stalled: []StalledRecipient{}}
	for _, r := range rs {
		r.mu.Lock()
		v.Queued += len(r.queue)
		v.InFlight += r.sent
		if !r.live {
			v.Behind++
		}
		if r.stalled && len(r.queue) > 0 {
			v.Stalled = append(v.Stalled, StalledRecipient{Role: r.id.Role, User: r.id.User,
				OldestEvent: r.queue[0].event, OldestSeq: r.queue[0].seq, Since: r.fullSince,
				Queued: len(r.queue), InFlight: r.sent})
		}
		r.mu.Unlock()
	}
	sort.Slice(v.Stalled, func(i, j int) bool { return v.Stalled[i].Since.Before(v.Stalled[j].Since) })
	return v
}
