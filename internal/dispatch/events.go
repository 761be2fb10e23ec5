package dispatch

import (
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Every event name of the dispatch namespaces, in both directions, as
// api/asyncapi.yaml documents them (the main namespace's ping/pong are
// cmd/dispatchd's). api/asyncapi_test.go checks the two against each
// other.

// Client→server events, each answered through its ack.
const (
	// /vendors
	ClientOrderCreate = "order:create"
	ClientOrderCancel = "order:cancel"
	ClientOrdersList  = "orders:list"
	// /drivers
	ClientPickupsSubscribe   = "pickups:subscribe"
	ClientPickupsUnsubscribe = "pickups:unsubscribe"
	ClientPickupClaim        = "pickup:claim"
	ClientOrderPickedUp      = "order:picked_up"
	ClientOrderInTransit     = "order:in_transit"
	ClientOrderDelivered     = "order:delivered"
	ClientLocationUpdate     = "location:update"
	ClientOrderUnassign      = "order:unassign"
	ClientOrderReject        = "order:reject"
	ClientOrderFailed        = "order:failed"
	ClientDriverDuty         = "driver:duty"
	ClientPickupDecline      = "pickup:decline"
	// /customers
	ClientOrderWatch   = "order:watch"
	ClientOrderUnwatch = "order:unwatch"
	// /dispatchers
	ClientBoardSubscribe = "board:subscribe"
	ClientOrderAssign    = "order:assign"
	ClientBoardStats     = "board:stats"
	// every namespace of a role: a new token for the socket's user
	ClientAuthRefresh = "auth:refresh"
)

// Event is a server→client event name.
type Event string

// Server→client events: every one but driver:location is durable (an
// eventId and a per-recipient seq, acknowledged by the client).
const (
	EventOrderStatus     Event = "order:status"
	EventOrderDelivered  Event = "order:delivered"
	EventPickupAvailable Event = "pickup:available"
	EventPickupTaken     Event = "pickup:taken"
	EventDriverLocation  Event = "driver:location"
	// EventOrderAssigned: the auto strategy gave a driver an order, to
	// reject before respondBy (driver feed).
	EventOrderAssigned Event = "order:assigned"
	// EventPickupOffer: the nearest strategy offers an order to one of
	// the K drivers of a ring, until expiresAt (driver feed).
	EventPickupOffer Event = "pickup:offer"
	// EventOrderUnassigned: the auto strategy found no driver for the
	// vendor's order; it stays ready and waits for one (vendor feed).
	EventOrderUnassigned Event = "order:unassigned"
	// EventWebhookDisabled: one of the vendor's webhook endpoints was
	// disabled for failing (vendor feed). internal/webhooks publishes it
	// to the log itself (it belongs to no order), under its own copy of
	// the name.
	EventWebhookDisabled Event = "webhook:disabled"
	// EventBoardOrder is best-effort like driver:location: a dispatcher
	// resyncs with board:subscribe.
	EventBoardOrder Event = "board:order"
	// EventBoardDriver: a driver's duty or position changed (best effort).
	EventBoardDriver Event = "board:driver"
	// EventAuthExpiring: the socket's token ends soon (auth.expiring_lead
	// before exp); auth:refresh extends it. Best effort, every namespace.
	EventAuthExpiring Event = "auth:expiring"
	// EventAuthExpired: the token ended unrefreshed; the server
	// disconnects the socket right after. Best effort, every namespace.
	EventAuthExpired Event = "auth:expired"
)

// BoardOrder is the board:order payload: an order of the tenant after a
// change.
type BoardOrder struct {
	Order orders.Order `json:"order"`
}

// BoardDriverUpdate is the board:driver payload: a driver's duty and,
// when fresh, its position.
type BoardDriverUpdate struct {
	DriverID string     `json:"driverId"`
	OnDuty   bool       `json:"onDuty"`
	Lat      *float64   `json:"lat,omitempty"`
	Lng      *float64   `json:"lng,omitempty"`
	At       *time.Time `json:"at,omitempty"`
}

// BoardDriver is one driver row of the board:subscribe result.
type BoardDriver struct {
	DriverID     string     `json:"driverId"`
	OnDuty       bool       `json:"onDuty"`
	Lat          *float64   `json:"lat,omitempty"`
	Lng          *float64   `json:"lng,omitempty"`
	At           *time.Time `json:"at,omitempty"`
	ActiveOrders int        `json:"activeOrders"`
}

// OrderStatus is the order:status payload.
type OrderStatus struct {
	EventID  string        `json:"eventId"`
	OrderID  string        `json:"orderId"`
	Status   orders.Status `json:"status"`
	DriverID string        `json:"driverId,omitempty"`
	// Failure comes with status failed.
	Failure *orders.Failure `json:"failure,omitempty"`
	// ETASeconds: to the pickup while assigned, to the dropoff after
	// picked_up, when the driver's position is known.
	ETASeconds *int      `json:"etaSeconds,omitempty"`
	At         time.Time `json:"at"`
}

// PickupAvailable is the pickup:available payload.
type PickupAvailable struct {
	EventID string       `json:"eventId"`
	Order   orders.Order `json:"order"`
}

// PickupTaken is the pickup:taken payload.
type PickupTaken struct {
	EventID string `json:"eventId"`
	OrderID string `json:"orderId"`
}

// OrderAssigned is the order:assigned payload: an automatic assignment.
type OrderAssigned struct {
	EventID   string       `json:"eventId"`
	Order     orders.Order `json:"order"`
	RespondBy time.Time    `json:"respondBy"`
}

// PickupOffer is the pickup:offer payload: one ring of the nearest
// strategy. Round counts from 1; the same order offered again to the same
// driver (after an unassign) comes with a new eventId.
type PickupOffer struct {
	EventID        string       `json:"eventId"`
	Order          orders.Order `json:"order"`
	ExpiresAt      time.Time    `json:"expiresAt"`
	DistanceMeters float64      `json:"distanceMeters"`
	Round          int          `json:"round"`
}

// OrderUnassigned is the order:unassigned payload.
type OrderUnassigned struct {
	EventID string `json:"eventId"`
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
}

// OrderDelivered is the vendor's thank-you.
type OrderDelivered struct {
	EventID  string    `json:"eventId"`
	OrderID  string    `json:"orderId"`
	DriverID string    `json:"driverId"`
	At       time.Time `json:"at"`
}

// Location is a driver's position as reported.
type Location struct {
	Lat     float64  `json:"lat"`
	Lng     float64  `json:"lng"`
	Heading *float64 `json:"heading,omitempty"`
	Speed   *float64 `json:"speed,omitempty"`
}

// DriverLocation is the driver:location payload (best-effort, no eventId).
// DistanceMeters and ETASeconds lead to the pickup while the order is
// assigned, to the dropoff after; absent when unknown.
type DriverLocation struct {
	OrderID string `json:"orderId"`
	Location
	At             time.Time `json:"at"`
	DistanceMeters *float64  `json:"distanceMeters,omitempty"`
	ETASeconds     *int      `json:"etaSeconds,omitempty"`
}
