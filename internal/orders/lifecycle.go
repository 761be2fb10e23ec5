package orders

// Action is a request to move an order along its lifecycle.
type Action string

// Actions, named after the events that request them.
const (
	ActionClaim     Action = "claim"
	ActionPickUp    Action = "picked_up"
	ActionInTransit Action = "in_transit"
	ActionDeliver   Action = "delivered"
	ActionCancel    Action = "cancel"
)

// rule is one edge of the state machine.
type rule struct {
	from []Status
	to   Status
	role Role
}

var rules = map[Action]rule{
	ActionClaim:     {from: []Status{Ready}, to: Assigned, role: RoleDriver},
	ActionPickUp:    {from: []Status{Assigned}, to: PickedUp, role: RoleDriver},
	ActionInTransit: {from: []Status{PickedUp}, to: InTransit, role: RoleDriver},
	ActionDeliver:   {from: []Status{InTransit}, to: Delivered, role: RoleDriver},
	ActionCancel:    {from: []Status{Ready, Assigned}, to: Cancelled, role: RoleVendor},
}

// Apply decides what action by actor does to o. It returns the next order
// (version and status advanced, times untouched) and changed = true; or
// changed = false when the action was already applied by the same actor
// (a harmless retry); or an *Error.
//
// Ownership is checked here too: a vendor acts only on its own orders, a
// driver only on the order assigned to it (claims aside).
func Apply(o Order, a Action, actor Actor) (next Order, changed bool, err error) {
	r, ok := rules[a]
	if !ok {
		return o, false, Errorf(CodeInvalidArgument, "unknown action %q", a)
	}
	if actor.Role != r.role {
		return o, false, ErrForbidden
	}
	switch actor.Role {
	case RoleVendor:
		if o.VendorID != actor.ID {
			// Another vendor's order looks missing, not forbidden.
			return o, false, ErrNotFound
		}
	case RoleDriver:
		if a != ActionClaim && o.DriverID != actor.ID {
			if o.DriverID == "" {
				return o, false, ErrConflict
			}
			return o, false, ErrForbidden
		}
	}
	if o.Status == r.to {
		if a == ActionClaim && o.DriverID != actor.ID {
			return o, false, ErrAlreadyClaimed
		}
		return o, false, nil // retried: already done by this actor
	}
	if !contains(r.from, o.Status) {
		if a == ActionClaim && o.Status != Cancelled {
			return o, false, ErrAlreadyClaimed
		}
		return o, false, Errorf(CodeConflict, "order is %s", o.Status)
	}
	next = o
	next.Status = r.to
	next.Version = o.Version + 1
	if a == ActionClaim {
		next.DriverID = actor.ID
	}
	return next, true, nil
}

func contains(ss []Status, s Status) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
