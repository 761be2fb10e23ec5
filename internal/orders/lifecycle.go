package orders

import (
	"crypto/subtle"
	"slices"
)

// Action is a request to move an order along its lifecycle.
type Action string

// Actions, named after the events that request them.
const (
	ActionClaim     Action = "claim"
	ActionPickUp    Action = "picked_up"
	ActionInTransit Action = "in_transit"
	ActionDeliver   Action = "delivered"
	ActionCancel    Action = "cancel"
	// ActionUnassign gives an assigned order back before pickup: by its
	// driver or by a dispatcher.
	ActionUnassign Action = "unassign"
	// ActionReject is an auto-assigned driver's refusal of the assignment.
	ActionReject Action = "reject"
	// ActionFail ends a carried order that could not be delivered.
	ActionFail Action = "failed"
	// ActionAssign is a dispatcher's manual assignment of a ready order.
	ActionAssign Action = "assign"
)

// rule is one edge of the state machine.
type rule struct {
	from  []Status
	to    Status
	roles []Role
}

var rules = map[Action]rule{
	ActionClaim:     {from: []Status{Ready}, to: Assigned, roles: []Role{RoleDriver}},
	ActionPickUp:    {from: []Status{Assigned}, to: PickedUp, roles: []Role{RoleDriver}},
	ActionInTransit: {from: []Status{PickedUp}, to: InTransit, roles: []Role{RoleDriver}},
	ActionDeliver:   {from: []Status{InTransit}, to: Delivered, roles: []Role{RoleDriver}},
	ActionCancel:    {from: []Status{Ready, Assigned}, to: Cancelled, roles: []Role{RoleVendor, RoleDispatcher}},
	ActionUnassign:  {from: []Status{Assigned}, to: Ready, roles: []Role{RoleDriver, RoleDispatcher}},
	ActionReject:    {from: []Status{Assigned}, to: Ready, roles: []Role{RoleDriver}},
	ActionFail:      {from: []Status{PickedUp, InTransit}, to: Failed, roles: []Role{RoleDriver}},
	ActionAssign:    {from: []Status{Ready}, to: Assigned, roles: []Role{RoleDispatcher}},
}

// Apply decides what action by actor does to o: Decide for an action
// without arguments.
func Apply(o Order, a Action, actor Actor) (next Order, changed bool, err error) {
	return Decide(o, Request{Action: a, Actor: actor})
}

// Decide decides what req does to o. It returns the next order (version
// and status advanced, times untouched: the caller stamps UpdatedAt and
// Failure.At) and changed = true; or changed = false when the action was
// already applied (a harmless retry); or an *Error.
//
// Ownership is checked here too: a vendor acts only on its own orders, a
// driver only on the order assigned to it (claims aside), a dispatcher on
// any order it can see (the tenant's; the caller scopes the tenant).
func Decide(o Order, req Request) (next Order, changed bool, err error) {
	r, ok := rules[req.Action]
	if !ok {
		return o, false, Errorf(CodeInvalidArgument, "unknown action %q", req.Action)
	}
	if err := req.validate(); err != nil {
		return o, false, err
	}
	if !slices.Contains(r.roles, req.Actor.Role) {
		return o, false, ErrForbidden
	}
	if err := owns(o, req); err != nil {
		return o, false, err
	}
	if o.Status == r.to {
		return o, false, retried(o, req)
	}
	if !slices.Contains(r.from, o.Status) {
		if req.Action == ActionClaim && o.Status != Cancelled && o.Status != Failed {
			return o, false, ErrAlreadyClaimed
		}
		return o, false, Errorf(CodeConflict, "order is %s", o.Status)
	}
	if err := guard(o, req); err != nil {
		return o, false, err
	}
	return advance(o, req, r.to), true, nil
}

// owns checks that the actor may act on this order at all.
func owns(o Order, req Request) error {
	switch req.Actor.Role {
	case RoleVendor:
		if o.VendorID != req.Actor.ID {
			// Another vendor's order looks missing, not forbidden.
			return ErrNotFound
		}
	case RoleDriver:
		if req.Action != ActionClaim && o.DriverID != req.Actor.ID {
			if o.DriverID == "" {
				return ErrConflict
			}
			return ErrForbidden
		}
	}
	return nil
}

// retried answers an action whose target status the order already has:
// nil (done before, nothing to do) unless another driver holds it.
func retried(o Order, req Request) error {
	switch req.Action {
	case ActionClaim:
		if o.DriverID != req.Actor.ID {
			return ErrAlreadyClaimed
		}
	case ActionAssign:
		if o.DriverID != req.DriverID {
			return Errorf(CodeConflict, "order is assigned to another driver")
		}
	}
	return nil
}

// guard holds the checks that depend on the order beyond its status.
func guard(o Order, req Request) error {
	switch req.Action {
	case ActionReject:
		if o.Dispatch.Strategy != StrategyAuto {
			return Errorf(CodeConflict, "only an auto-assigned order can be rejected; use order:unassign")
		}
		// While assigned nothing else changes the order, so UpdatedAt is
		// the assignment's time.
		if req.RespondWithin > 0 && req.At.After(o.UpdatedAt.Add(req.RespondWithin)) {
			return Errorf(CodeConflict, "respondBy has passed: the assignment stands; use order:unassign")
		}
	case ActionDeliver:
		if o.Proof == ProofPIN && !pinMatches(o.PIN, req.PIN) {
			return Errorf(CodeInvalidArgument, "proof.pin does not match the order's PIN")
		}
	}
	return nil
}

// pinMatches compares in constant time, so that the time of a refusal
// tells nothing about how much of a guess was right.
func pinMatches(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func advance(o Order, req Request, to Status) Order {
	next := o
	next.Status = to
	next.Version = o.Version + 1
	switch req.Action {
	case ActionClaim:
		next.DriverID = req.Actor.ID
	case ActionAssign:
		next.DriverID = req.DriverID
	case ActionUnassign, ActionReject:
		next.DriverID = ""
	case ActionFail:
		next.Failure = &Failure{Reason: FailureReason(req.Reason)}
	}
	return next
}
