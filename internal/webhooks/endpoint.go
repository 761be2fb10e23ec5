package webhooks

import (
	"context"
	"time"
)

// Endpoint is a registered receiver: where the tenant's (or one vendor's)
// events of the chosen types go, signed with its secret.
type Endpoint struct {
	ID     string `json:"id"`
	Tenant string `json:"-"`
	// VendorID narrows the endpoint to one vendor's orders: the vendor
	// that registered it. Empty: every vendor of the tenant.
	VendorID string   `json:"-"`
	URL      string   `json:"url"`
	Events   []string `json:"events"`
	Secret   string   `json:"-"`
	Status   string   `json:"status"`
	// Pos is the endpoint's cursor: every log record up to it is delivered
	// or given up.
	Pos uint64 `json:"-"`
	// FailingSince is the first failed attempt since the last success;
	// DisabledAt and DisabledReason say why it stopped.
	FailingSince   *time.Time `json:"failingSince,omitempty"`
	DisabledAt     *time.Time `json:"disabledAt,omitempty"`
	DisabledReason string     `json:"disabledReason,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
}

// The endpoint statuses.
const (
	StatusEnabled  = "enabled"
	StatusDisabled = "disabled"
)

// wants reports whether the endpoint subscribed to the event type.
func (e *Endpoint) wants(typ string) bool {
	for _, t := range e.Events {
		if t == typ {
			return true
		}
	}
	return false
}

// Delivery is one message to one endpoint and the fate of its attempts:
// the delivery log a tenant reads and retries from.
type Delivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"-"`
	// MsgID is the webhook-id header: the same on every attempt.
	MsgID   string `json:"msgId"`
	Type    string `json:"type"`
	OrderID string `json:"orderId"`
	Pos     uint64 `json:"-"`
	// Payload is the signed body.
	Payload []byte `json:"-"`
	Status  string `json:"status"`
	// Attempts counts every attempt, automatic and manual.
	Attempts       int        `json:"attempts"`
	ResponseStatus int        `json:"responseStatus,omitempty"`
	LastError      string     `json:"lastError,omitempty"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

// The delivery statuses.
const (
	DeliveryPending   = "pending"   // being retried
	DeliverySucceeded = "succeeded" // a 2xx came
	DeliveryFailed    = "failed"    // given up (retention), or failed when the endpoint was disabled
)

// Attempt is the outcome of one attempt, as the store records it.
type Attempt struct {
	Delivery Delivery // identity and payload; ID is used only if the row is new
	Status   string   // the delivery's status after the attempt
	HTTP     int      // response status, 0 without a response
	Err      string
	Next     *time.Time
	At       time.Time
}

// Store keeps endpoints, their cursors and leases, and the delivery log.
// Reads of another tenant's endpoint find nothing (ErrNotFound).
type Store interface {
	CreateWebhook(ctx context.Context, e Endpoint) error
	Webhooks(ctx context.Context, tenant, vendorID string) ([]Endpoint, error)
	Webhook(ctx context.Context, tenant, vendorID, id string) (Endpoint, error)
	DeleteWebhook(ctx context.Context, tenant, vendorID, id string) error
	// LeaseWebhooks renews node's leases until until, takes the enabled
	// endpoints whose lease ran out, and returns every endpoint node now
	// holds.
	LeaseWebhooks(ctx context.Context, node string, now, until time.Time) ([]Endpoint, error)
	// ReleaseWebhooks gives node's leases up.
	ReleaseWebhooks(ctx context.Context, node string) error
	// SaveWebhookState moves the cursor forward (never back) and stores
	// failingSince.
	SaveWebhookState(ctx context.Context, id string, pos uint64, failingSince *time.Time) error
	DisableWebhook(ctx context.Context, id string, at time.Time, reason string) error
	// EnableWebhook turns one of the owner's endpoints back on, its
	// cursor kept, its failing period and disablement cleared.
	EnableWebhook(ctx context.Context, tenant, vendorID, id string) (Endpoint, error)
	RecordWebhookAttempt(ctx context.Context, a Attempt) (Delivery, error)
	// DeliveredWebhookMessages returns the ids of the endpoint's messages
	// of records after pos that a node delivered already: those it sent
	// before its cursor caught up with them.
	DeliveredWebhookMessages(ctx context.Context, endpointID string, after uint64) (map[string]bool, error)
	WebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]Delivery, error)
	WebhookDelivery(ctx context.Context, endpointID, id string) (Delivery, error)
	// DeleteWebhookDeliveries drops the delivery log entries last updated
	// before: past retention.
	DeleteWebhookDeliveries(ctx context.Context, before time.Time) error
}

// Log is the durable log as the sink reads it (delivery.Log's methods),
// and Publish (delivery.Publisher's) for the one record it writes, the
// vendor's webhook:disabled.
type Log interface {
	EventSubject(tokens ...string) string
	LastPos(ctx context.Context) (uint64, error)
	// Bounds: the oldest and newest positions still stored.
	Bounds(ctx context.Context) (first, last uint64, err error)
	Follow(ctx context.Context, after uint64, handle func(pos uint64, subject string, data []byte)) (stop func(), err error)
	Read(ctx context.Context, subjects []string, from, to uint64, handle func(pos uint64, subject string, data []byte) error) error
	Publish(ctx context.Context, subject, msgID string, data []byte) (seq uint64, duplicate bool, err error)
}
