package webhooks

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// The event types an endpoint may subscribe to.
const (
	TypeCreated   = "order.created"
	TypeStatus    = "order.status"
	TypeDelivered = "order.delivered"
	TypeFailed    = "order.failed"
	TypeCancelled = "order.cancelled"
)

// Types lists every event type, in the contract's order.
func Types() []string {
	return []string{TypeCreated, TypeStatus, TypeDelivered, TypeFailed, TypeCancelled}
}

// The vendor feed's events and statuses this package reads; they are
// dispatch's wire names (api/asyncapi.yaml), which delivery carries as
// opaque strings.
const (
	eventOrderStatus    = "order:status"
	eventOrderDelivered = "order:delivered"
	statusFailed        = "failed"
	statusCancelled     = "cancelled"
	// eventWebhookDisabled is dispatch.EventWebhookDisabled, the one
	// event this package writes; it cannot import dispatch (dispatch's
	// tests import the store, which imports this package), and
	// api/asyncapi_test.go checks that the two agree.
	eventWebhookDisabled = "webhook:disabled"
)

// message is one webhook: what is signed and sent.
type message struct {
	ID      string // webhook-id
	Type    string
	OrderID string
	Body    []byte
}

// envelope is the body: {type, timestamp, data}.
type envelope struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// recordFields are what the mapping reads of a record's body.
type recordFields struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// messages maps a vendor-feed record to the messages it makes, in the
// order they are sent; records of other events make none.
func messages(rec delivery.Record) ([]message, error) {
	var f recordFields
	if err := json.Unmarshal(rec.Body, &f); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", rec.Event, rec.EventID, err)
	}
	var types []string
	switch rec.Event {
	case eventOrderStatus:
		types = append(types, TypeStatus)
		switch {
		case rec.Version == 1:
			types = append(types, TypeCreated)
		case f.Status == statusFailed:
			types = append(types, TypeFailed)
		case f.Status == statusCancelled:
			types = append(types, TypeCancelled)
		}
	case eventOrderDelivered:
		types = append(types, TypeDelivered)
	}
	out := make([]message, 0, len(types))
	for _, typ := range types {
		body, err := json.Marshal(envelope{Type: typ, Timestamp: f.At.UTC(), Data: rec.Body})
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", typ, err)
		}
		out = append(out, message{ID: msgID(rec.EventID, typ), Type: typ, OrderID: rec.OrderID, Body: body})
	}
	return out, nil
}

// msgID is a message's webhook-id: the event's id, with the type for the
// milestones derived from the same event. order.status and
// order.delivered are the only messages of their events.
func msgID(eventID, typ string) string {
	switch typ {
	case TypeStatus, TypeDelivered:
		return "msg_" + eventID
	}
	return "msg_" + eventID + "_" + typ[len("order."):]
}

// validTypes reports whether every type is known and none repeats.
func validTypes(types []string) bool {
	if len(types) == 0 {
		return false
	}
	for i, t := range types {
		if !slices.Contains(Types(), t) || slices.Contains(types[:i], t) {
			return false
		}
	}
	return true
}
