package delivery

import "context"

// RecipientID names one durable queue: a user of a tenant in one role
// (the role is also the namespace). Every socket of that user shares it.
type RecipientID struct {
	Tenant string
	Role   string
	User   string
}

// Cursor is how far a recipient has acknowledged: Pos is the log position
// of the last acknowledged event (or where its queue started) and Seq
// that event's per-recipient sequence number. Both only grow.
type Cursor struct {
	Pos uint64
	Seq uint64
}

// Subscription kinds. A customer's "order" subscription (Key = order id)
// is made by order:watch; a driver's "zone" subscription (Key = zone, ""
// for every zone) by pickups:subscribe.
const (
	SubOrder = "order"
	SubZone  = "zone"
)

// Subscription is a durable interest of a recipient in part of a feed:
// records at log positions From < pos, and pos <= Until when Until is not
// zero (ended by an unwatch), belong to the recipient.
type Subscription struct {
	Kind  string
	Key   string
	From  uint64
	Until uint64
}

// Recipients keeps the recipients' cursors and subscriptions: the state
// that lets any node resume a recipient's queue where another left it.
type Recipients interface {
	// LoadRecipient returns the recipient's cursor and subscriptions. A
	// recipient seen for the first time gets start as its cursor.
	LoadRecipient(ctx context.Context, id RecipientID, start Cursor) (Cursor, []Subscription, error)
	// SaveCursors stores cursors; a stored cursor only moves forward (a
	// smaller Pos than the stored one is ignored).
	SaveCursors(ctx context.Context, cursors map[RecipientID]Cursor) error
	// PutSubscription creates or replaces the subscription with the same
	// Kind and Key.
	PutSubscription(ctx context.Context, id RecipientID, sub Subscription) error
}
