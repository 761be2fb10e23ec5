package dispatch

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// Queues are the durable per-recipient event queues: every durable event
// reaches a user through them, with a seq and an ack as its receipt.
type Queues interface {
	Attach(ctx context.Context, id delivery.RecipientID, c delivery.Conn) (detach func(), err error)
	Subscribe(ctx context.Context, id delivery.RecipientID, kind, key string) error
	Unsubscribe(ctx context.Context, id delivery.RecipientID, kind, key string) error
	Subscriptions(id delivery.RecipientID) []delivery.Subscription
	// TenantView is one tenant's part of this node's queues (board:stats).
	TenantView(tenant string) delivery.TenantView
}

var _ Queues = (*delivery.Queues)(nil)

// socketConn delivers a user's durable events on one socket. Acks are
// cumulative per socket (delivery receipts every earlier event sent on it
// when a later one is acked), and a stock client answers only the events
// it handles: so an answer also drops the socket's pending acks of the
// durable events sent before it, which would otherwise fill the socket's
// MaxPendingAcks and make every later delivery fail.
type socketConn struct {
	s       *transport.Socket
	mu      sync.Mutex
	pending []uint64 // ack ids of durable events sent and not answered, in order
}

var _ delivery.Conn = (*socketConn)(nil)

// Deliver implements delivery.Conn. The ack has no timeout: an event waits for
// its receipt as long as the socket lives, and is redelivered after it.
func (c *socketConn) Deliver(event string, payload []byte, acked func()) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := new(uint64) // set below, read by the callback under c.mu
	n, err := c.s.EmitWithAckID(event, 0, func(_ *transport.Message, err error) {
		if err == nil {
			c.answered(id)
			acked()
		}
	}, json.RawMessage(payload))
	if err == nil {
		*id = n
		c.pending = append(c.pending, n)
	}
	return err
}

// answered drops *id and every ack pending before it on this socket. The
// callback may come before Deliver has recorded *id: c.mu makes it wait.
func (c *socketConn) answered(id *uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.pending, *id)
	if i < 0 {
		return
	}
	for _, earlier := range c.pending[:i] {
		c.s.DropAck(earlier)
	}
	c.pending = slices.Delete(c.pending, 0, i+1)
}

// recipientOf names the durable queue of the socket's user.
func recipientOf(sess *session) delivery.RecipientID {
	c := sess.claims
	return delivery.RecipientID{Tenant: c.Tenant, Role: string(c.Role), User: c.Subject}
}

// attach starts a newly connected socket's token lifetime and connects
// the socket to its user's queue; what the user has not acknowledged
// starts flowing at once. A socket whose queue cannot be loaded is
// disconnected: the client reconnects and tries again.
func (t *Handlers) attach(s *transport.Socket, sess *session) bool {
	sess.life.start(time.Now())
	ctx, cancel := t.ctx()
	defer cancel()
	detach, err := t.queues.Attach(ctx, recipientOf(sess), &socketConn{s: s})
	if err != nil {
		t.log.Error("attach to queue", zap.String("tenant_id", sess.claims.Tenant), zap.String("ns", s.Namespace().Name()), zap.Error(err))
		s.Disconnect(false)
		return false
	}
	if !sess.setDetach(detach) {
		detach() // it left while the queue loaded
	}
	return true
}

// rejoinWatched puts a customer's socket in the rooms of the orders it
// watches (positions are best-effort and travel by room).
func (t *Handlers) rejoinWatched(s *transport.Socket, sess *session) {
	for _, sub := range t.queues.Subscriptions(recipientOf(sess)) {
		if sub.Kind == delivery.SubOrder && sub.Until == 0 && orders.ValidID(sub.Key) {
			s.Join(OrderRoom(sess.claims.Tenant, sub.Key))
		}
	}
}
