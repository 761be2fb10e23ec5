package delivery

import (
	"encoding/json"
	"strconv"
)

// Feeds are the parts of the durable log. Every durable event is stored
// once per feed it belongs to, not once per recipient: a pickup offered to
// hundreds of drivers is one record on the tenant's pickups feed, and each
// driver's cursor walks that feed. Which role owns which feed is the
// caller's (Config.Feeds); what a feed means is not.
const (
	FeedVendor   = "v" // key: vendor id; all of that vendor's events
	FeedCustomer = "c" // key: customer id; filtered by the orders watched (SubOrder)
	FeedDriver   = "d" // key: driver id; events for that driver alone
	FeedPickups  = "p" // key: zone; shared by the tenant, filtered by zone subscriptions (SubZone)
)

// Record is one durable event as stored on a feed: who it is for, and the
// client payload without its per-recipient seq. Event, OrderID and Zone are
// opaque here: OrderID and Zone only select subscriptions.
type Record struct {
	Feed    string `json:"feed"`
	Tenant  string `json:"tenant"`
	Key     string `json:"key"`
	Event   string `json:"event"`
	EventID string `json:"eventId"`
	OrderID string `json:"orderId"`
	Zone    string `json:"zone,omitempty"`
	// Version is the order's version after the change, when the record
	// renders one: a consumer of the log (webhooks) tells an order's
	// creation (1) from a later change by it. Clients never see it.
	Version int             `json:"version,omitempty"`
	Body    json.RawMessage `json:"body"`
}

// subjectTokens are the tokens of the record's subject below the log's
// event prefix: tenant, feed, key.
func (r *Record) subjectTokens() []string {
	return []string{r.Tenant, r.Feed, r.Key}
}

// msgID deduplicates a retried publish of this record: one event may be
// stored on several feeds, never twice on one.
func (r *Record) msgID() string { return r.EventID + "|" + r.Feed + "|" + r.Key }

// Payload is the client payload of the record for the recipient's seq.
func (r *Record) Payload(seq uint64) []byte { return withSeq(r.Body, seq) }

// withSeq returns body, a JSON object, with "seq" added as its last field.
// Only the seq differs between recipients, so this is the one copy each
// recipient costs.
func withSeq(body json.RawMessage, seq uint64) []byte {
	out := make([]byte, 0, len(body)+24)
	out = append(out, body[:len(body)-1]...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	return append(out, '}')
}
