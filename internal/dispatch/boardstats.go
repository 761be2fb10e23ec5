package dispatch

import (
	"os"
	"time"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// BoardStats is the board:stats result's stats: what this node knows of
// the dispatcher's tenant, never of another. Delivery queues live on the
// node holding the socket, so with several nodes each answers for its
// own sockets only; Nodes names the node(s) that answered (one today:
// there is no request/reply between nodes on the broker yet).
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
	Role        string    `json:"role"`
	UserID      string    `json:"userId"`
	OldestEvent string    `json:"oldestEvent"`
	OldestSeq   uint64    `json:"oldestSeq"`
	Since       time.Time `json:"since"`
	Queued      int       `json:"queued"`
	InFlight    int       `json:"inFlight"`
}

// boardStats handles board:stats {}: the "at a glance" numbers of the
// dispatcher's tenant, as this node sees them.
func (t *Handlers) boardStats(_ *transport.Socket, sess *session, _ *transport.Message, ack transport.Ack) {
	if sess.claims.Role != orders.RoleDispatcher {
		fail(ack, t.log, orders.ErrForbidden)
		return
	}
	tenant := sess.claims.Tenant
	node, err := os.Hostname()
	if err != nil || node == "" {
		node = "local"
	}
	st := BoardStats{Nodes: []string{node}, At: time.Now().UTC(), Sockets: t.sockets.count(tenant),
		Delivery: deliveryViewOf(t.queues.TenantView(tenant))}
	if t.svc.drivers != nil {
		st.DriversOnDuty = len(t.svc.drivers.OnDuty(tenant))
	}
	ok(ack, map[string]any{"stats": st})
}

func deliveryViewOf(v delivery.TenantView) BoardDeliveryView {
	out := BoardDeliveryView{Recipients: v.Recipients, Queued: v.Queued, InFlight: v.InFlight, Behind: v.Behind,
		Stalled: make([]BoardStalledEntry, 0, len(v.Stalled))}
	for _, s := range v.Stalled {
		out.Stalled = append(out.Stalled, BoardStalledEntry{Role: s.Role, UserID: s.User, OldestEvent: s.OldestEvent,
			OldestSeq: s.OldestSeq, Since: s.Since.UTC(), Queued: s.Queued, InFlight: s.InFlight})
	}
	return out
}
