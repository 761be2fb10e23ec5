package dispatch

import (
	"os"
	"time"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// BoardStats is the board:stats result's stats: what the nodes know of
// the dispatcher's tenant, never of another. Delivery queues live on the
// node holding each socket: with a StatsGather every node answers for
// its own sockets over the broker, and Nodes names those that answered
// in time; without one (or with the broker unreachable), this node alone.
type BoardStats struct {
	Nodes         []string          `json:"nodes"`
	At            time.Time         `json:"at"`
	DriversOnDuty int               `json:"driversOnDuty"`
	Sockets       int               `json:"sockets"`
	Delivery      BoardDeliveryView `json:"delivery"`
}

// BoardDeliveryView is the tenant's part of the node's durable queues.
type BoardDeliveryView struct {
	Recipients int                 `json:"recipients"`
	Queued     int                 `json:"queued"`
	InFlight   int                 `json:"inFlight"`
	Behind     int                 `json:"behind"`
	Stalled    []BoardStalledEntry `json:"stalled"`
}

// BoardStalledEntry is one stalled recipient: a user whose window of
// unacknowledged events has stayed full since Since.
type BoardStalledEntry struct {
	Node        string    `json:"node"`
	Role        string    `json:"role"`
	UserID      string    `json:"userId"`
	OldestEvent string    `json:"oldestEvent"`
	OldestSeq   uint64    `json:"oldestSeq"`
	Since       time.Time `json:"since"`
	Queued      int       `json:"queued"`
	InFlight    int       `json:"inFlight"`
}

// GatherStats makes board:stats ask every node through g, and gives g
// this node's view to answer others with.
func (t *Handlers) GatherStats(g *StatsGather) {
	g.local = func(tenant string) NodeStats { return t.nodeStats(g.node, tenant) }
	t.gather = g
}

// nodeStats is this node's part of tenant's stats.
func (t *Handlers) nodeStats(node, tenant string) NodeStats {
	return NodeStats{Node: node, Sockets: t.sockets.count(tenant), Delivery: deliveryViewOf(node, t.queues.TenantView(tenant))}
}

// boardStats handles board:stats {}: the "at a glance" numbers of the
// dispatcher's tenant. Asking the other nodes waits for their answers,
// so it runs off the socket's reading goroutine.
func (t *Handlers) boardStats(_ *transport.Socket, sess *session, _ *transport.Message, ack transport.Ack) {
	if sess.claims.Role != orders.RoleDispatcher {
		fail(ack, t.log, orders.ErrForbidden)
		return
	}
	tenant := sess.claims.Tenant
	st := BoardStats{At: time.Now().UTC()}
	if t.svc.drivers != nil {
		// Every node's fleet hears every driver: this node's count is everyone's.
		st.DriversOnDuty = len(t.svc.drivers.OnDuty(tenant))
	}
	if t.gather == nil {
		mergeNodeStats([]NodeStats{t.nodeStats(hostname(), tenant)}, &st)
		ok(ack, map[string]any{"stats": st})
		return
	}
	go func() {
		mergeNodeStats(t.gather.Gather(tenant), &st)
		ok(ack, map[string]any{"stats": st})
	}()
}

// hostname names this node when no StatsGather does.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "local"
}

func deliveryViewOf(node string, v delivery.TenantView) BoardDeliveryView {
	out := BoardDeliveryView{Recipients: v.Recipients, Queued: v.Queued, InFlight: v.InFlight, Behind: v.Behind,
		Stalled: make([]BoardStalledEntry, 0, len(v.Stalled))}
	for _, s := range v.Stalled {
		out.Stalled = append(out.Stalled, BoardStalledEntry{Node: node, Role: s.Role, UserID: s.User, OldestEvent: s.OldestEvent,
			OldestSeq: s.OldestSeq, Since: s.Since.UTC(), Queued: s.Queued, InFlight: s.InFlight})
	}
	return out
}
