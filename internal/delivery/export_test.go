package delivery

import "context"

// Internals for the external tests (package delivery_test), which render
// records with the product's own fan-out rules.

func (c *Relay) RelayOnce(ctx context.Context) bool { return c.relayOnce(ctx) }
func (c *Relay) AwaitMark() error                   { return c.awaitMark() }
func (r *Record) SubjectTokens() []string           { return r.subjectTokens() }
func (r *Record) MsgID() string                     { return r.msgID() }

// QueueState is what recipient id holds on this node, and whether it is
// live.
func (d *Queues) QueueState(id RecipientID) (held int, live bool) {
	d.mu.Lock()
	r := d.byID[id]
	d.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue), r.live
}
