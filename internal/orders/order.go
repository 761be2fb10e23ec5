package orders

import "time"

// Status is a stage of an order's lifecycle.
type Status string

// The lifecycle: ready → assigned → picked_up → in_transit → delivered,
// cancelled from ready or assigned, back to ready from assigned
// (unassign, reject), and failed from picked_up or in_transit.
const (
	Ready     Status = "ready"
	Assigned  Status = "assigned"
	PickedUp  Status = "picked_up"
	InTransit Status = "in_transit"
	Delivered Status = "delivered"
	Cancelled Status = "cancelled"
	Failed    Status = "failed"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case Ready, Assigned, PickedUp, InTransit, Delivered, Cancelled, Failed:
		return true
	}
	return false
}

// Place is a pickup or drop-off point.
type Place struct {
	Address string  `json:"address"`
	Lat     float64 `json:"lat"`
	Lng     float64 `json:"lng"`
}

// Item is one line of an order.
type Item struct {
	Name string `json:"name"`
	Qty  int    `json:"qty"`
}

// Order is the contract's order object. Zone is an addition: drivers may
// subscribe to one zone's pickups.
type Order struct {
	ID         string   `json:"id"`
	Tenant     string   `json:"tenant"`
	VendorID   string   `json:"vendorId"`
	CustomerID string   `json:"customerId"`
	Store      string   `json:"store"`
	Zone       string   `json:"zone,omitempty"`
	Pickup     Place    `json:"pickup"`
	Dropoff    Place    `json:"dropoff"`
	Items      []Item   `json:"items,omitempty"`
	Status     Status   `json:"status"`
	DriverID   string   `json:"driverId,omitempty"`
	Failure    *Failure `json:"failure,omitempty"`
	Dispatch   Dispatch `json:"dispatch"`
	Proof      Proof    `json:"proof,omitempty"`
	// PIN is the delivery PIN of an order with ProofPIN. It never leaves
	// in JSON: only the order's customer sees it, through order:watch.
	PIN string `json:"-"`
	// TrackingToken opens the order's public tracking view; it leaves
	// only inside TrackingURL, which the service sets for the roles that
	// may see it (vendor, customer, dispatcher), never for drivers.
	TrackingToken string    `json:"-"`
	TrackingURL   string    `json:"trackingUrl,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	Version       int       `json:"version"`
}

// Role is who acts on an order; it is also the JWT role claim and matches
// the namespace name.
type Role string

// Roles.
const (
	RoleVendor   Role = "vendor"
	RoleDriver   Role = "driver"
	RoleCustomer Role = "customer"
	// RoleDispatcher is an operator of the tenant: it sees the tenant's
	// whole board and acts on any of its orders.
	RoleDispatcher Role = "dispatcher"
)

// Roles lists every role, in the order tokens and help texts name them.
func Roles() []Role { return []Role{RoleVendor, RoleDriver, RoleCustomer, RoleDispatcher} }

// Valid reports whether r is one of Roles: the one place that knows, for
// the token verifier and the token command alike.
func (r Role) Valid() bool {
	for _, v := range Roles() {
		if r == v {
			return true
		}
	}
	return false
}

// Actor identifies who caused a transition.
type Actor struct {
	Role Role   `json:"role"`
	ID   string `json:"id"`
}

// Event is one entry of an order's log: its creation or a transition.
type Event struct {
	ID       string `json:"id"`
	OrderID  string `json:"orderId"`
	Status   Status `json:"status"`
	DriverID string `json:"driverId,omitempty"`
	// FromDriverID is the driver an unassign or reject took the order
	// from: the driver feed that must hear of it.
	FromDriverID string `json:"fromDriverId,omitempty"`
	// Reason is the actor's reason, when it gave one.
	Reason string `json:"reason,omitempty"`
	// RespondBy is an automatic assignment's deadline for a reject. It
	// travels with the change (the outbox) to the driver's
	// order:assigned; the stored log does not keep it.
	RespondBy *time.Time `json:"respondBy,omitempty"`
	// Taken are the drivers other than the new holder who were offered
	// the order (the nearest strategy) and must hear it is taken. Like
	// RespondBy it travels with the change only.
	Taken []string `json:"taken,omitempty"`
	// Offered: the order was still in its offer rings (the zone never
	// heard of it, so it does not hear it is taken). Travels with the
	// change only.
	Offered bool `json:"offered,omitempty"`
	// ETASeconds is the driver's estimated time to the order's next stop
	// when the change was made, if known (orders.Request.ETA). Like
	// RespondBy it travels only with the change, to order:status.
	ETASeconds *int      `json:"etaSeconds,omitempty"`
	Actor      Actor     `json:"actor"`
	At         time.Time `json:"at"`
	Version    int       `json:"version"`
}

// Filter narrows a listing of one tenant's orders; empty fields match all.
type Filter struct {
	VendorID   string
	CustomerID string
	DriverID   string
	Zone       string
	Status     Status
	// WithoutDeadline leaves out orders with a pending deadline of this
	// kind: the pickups list skips orders still offered to a few drivers.
	WithoutDeadline string
	// After, an order id, starts the listing after that order: keyset
	// pagination, stable while orders are added (ids sort by creation).
	After string
	Limit int // default 100, at most 1000
}

// Change is one committed change of an order: its state after the change
// and the event that describes it. It is what leaves the database through
// the outbox and travels between nodes.
type Change struct {
	Order Order `json:"order"`
	Event Event `json:"event"`
	// Unassigned, when set, makes this no change of the order but the
	// auto strategy's notice that no driver could take it, with this
	// reason; Event carries only its id, order id and time.
	Unassigned string `json:"unassigned,omitempty"`
	// Offer, when set, makes this no change of the order but one ring of
	// the nearest strategy's offers; Broadcast, its fallback to every
	// subscribed driver of the zone. Event carries only its id, order
	// id, version and time.
	Offer     *Offer `json:"offer,omitempty"`
	Broadcast bool   `json:"broadcast,omitempty"`
}

// Offer is one ring of the nearest strategy: the order offered to these
// drivers until ExpiresAt.
type Offer struct {
	Round     int             `json:"round"`
	ExpiresAt time.Time       `json:"expiresAt"`
	Drivers   []OfferedDriver `json:"drivers"`
}

// OfferedDriver is one driver of an offer ring, with its distance to the
// pickup when offered.
type OfferedDriver struct {
	ID     string  `json:"id"`
	Meters float64 `json:"meters"`
}

// ReasonNoDriver is the auto strategy's reason when no driver can take
// an order.
const ReasonNoDriver = "no_driver"
