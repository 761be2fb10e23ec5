// Package deadline runs the order deadlines that must outlive the node
// that set them (offer expiry, respondBy): every node polls the store for
// due ones, one node wins each, and a handler per kind acts on it.
package deadline

import "time"

// Deadline is one pending deadline of an order. An order has at most one
// per Kind: setting it again replaces it.
type Deadline struct {
	Tenant  string
	OrderID string
	Kind    string    // what acts on it, e.g. "offer" or "respond_by"
	DueAt   time.Time // UTC, microseconds
	Round   int64     // which attempt it belongs to, e.g. the offer ring
	Payload string    // the handler's own data, opaque to the store
	// Token is new each time the deadline is set, so that completing an
	// old claim cannot delete a deadline set again meanwhile. The store
	// fills it in.
	Token string
	// LeaseUntil is when a claim lapses and the deadline may be claimed
	// again (set by a claim).
	LeaseUntil time.Time
}
