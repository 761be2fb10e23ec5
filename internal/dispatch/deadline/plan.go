package deadline

import (
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Changes are deadlines of one order to set or clear together with a
// change of the order. Set's Tenant and OrderID are the order's.
type Changes struct {
	Set   []Deadline
	Clear []string // kinds
}

// Transition is what a Planner sees of a change of an order, inside the
// change's transaction: Lookup reads the order's deadline of a kind in
// that same transaction (ok false when it has none).
type Transition struct {
	Cur, Next orders.Order
	Req       orders.Request
	Now       time.Time
	Lookup    func(kind string) (d Deadline, ok bool, err error)
}

// Plan is what a change of an order does beyond the order itself.
type Plan struct {
	Changes
	// Offered: the order was in its offer rings, never broadcast, so
	// only Taken (drivers other than the new holder who were offered
	// it) hear pickup:taken, on their own feeds; not the zone.
	Offered bool
	Taken   []string
}

// Planner decides a transition's Plan; an error refuses the transition
// (nothing is written). It runs inside a write transaction: it must be
// quick and read only through Lookup.
type Planner func(t Transition) (Plan, error)
