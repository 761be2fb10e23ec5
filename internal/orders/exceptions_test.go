package orders

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecideMatrix covers every (action, status, role) combination. Each
// string has one letter per status of matrixStatuses: C changed, R a
// harmless retry, F forbidden, N not found, X conflict, A already claimed.
// The orders belong to vendor v1 and, from assigned on (and when failed),
// to driver d1; the actor of each role is the order's own (v1, d1).
func TestDecideMatrix(t *testing.T) {
	matrixStatuses := []Status{Ready, Assigned, PickedUp, InTransit, Delivered, Cancelled, Failed}
	all := func(c string) string { return strings.Repeat(c, len(matrixStatuses)) }
	expect := map[Action]map[Role]string{
		ActionClaim:     {RoleDriver: "CRAAAXX"},
		ActionPickUp:    {RoleDriver: "XCRXXXX"},
		ActionInTransit: {RoleDriver: "XXCRXXX"},
		ActionDeliver:   {RoleDriver: "XXXCRXX"},
		ActionCancel:    {RoleVendor: "CCXXXRX", RoleDispatcher: "CCXXXRX"},
		ActionUnassign:  {RoleDriver: "XCXXXXX", RoleDispatcher: "RCXXXXX"},
		ActionReject:    {RoleDriver: "XCXXXXX"},
		ActionFail:      {RoleDriver: "XXCCXXR"},
		ActionAssign:    {RoleDispatcher: "CRXXXXX"},
	}
	actors := map[Role]Actor{
		RoleVendor: {RoleVendor, "v1"}, RoleDriver: {RoleDriver, "d1"},
		RoleCustomer: {RoleCustomer, "c1"}, RoleDispatcher: {RoleDispatcher, "op1"},
	}
	for a, byRole := range expect {
		for role, actor := range actors {
			want, ok := byRole[role]
			if !ok {
				want = all("F")
			}
			for i, st := range matrixStatuses {
				o := Order{ID: "o", VendorID: "v1", CustomerID: "c1", Status: st, Version: 3,
					Dispatch: Dispatch{Strategy: StrategyAuto}}
				if st != Ready && st != Cancelled {
					o.DriverID = "d1"
				}
				req := Request{Action: a, Actor: actor, DriverID: "d1"}
				if a == ActionFail {
					req.Reason = string(ReasonRefused)
				}
				t.Run(string(a)+"/"+string(role)+"/"+string(st), func(t *testing.T) {
					next, changed, err := Decide(o, req)
					checkOutcome(t, want[i], o, next, changed, err)
				})
			}
		}
	}
}

func checkOutcome(t *testing.T, want byte, from, next Order, changed bool, err error) {
	t.Helper()
	codes := map[byte]Code{'F': CodeForbidden, 'N': CodeNotFound, 'X': CodeConflict, 'A': CodeAlreadyClaimed}
	switch want {
	case 'C':
		require.NoError(t, err)
		require.True(t, changed)
		assert.Equal(t, from.Version+1, next.Version)
	case 'R':
		require.NoError(t, err)
		require.False(t, changed)
		assert.Equal(t, from, next)
	default:
		require.Error(t, err)
		code, _ := CodeOf(err)
		assert.Equal(t, codes[want], code)
		assert.False(t, changed)
		assert.Equal(t, from, next)
	}
}

func TestDecideExceptions(t *testing.T) {
	d1 := Actor{RoleDriver, "d1"}
	op := Actor{RoleDispatcher, "op1"}
	order := func(s Status, driver string) Order {
		return Order{ID: "o", VendorID: "v1", CustomerID: "c1", Status: s, DriverID: driver, Version: 3,
			Dispatch: Dispatch{Strategy: StrategyBroadcast}}
	}
	withPIN := func(s Status) Order {
		o := order(s, "d1")
		o.Proof, o.PIN = ProofPIN, "0421"
		return o
	}
	assignedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	auto := order(Assigned, "d1")
	auto.Dispatch.Strategy, auto.UpdatedAt = StrategyAuto, assignedAt
	reject := func(at time.Time) Request {
		return Request{Action: ActionReject, Actor: d1, At: at, RespondWithin: 30 * time.Second}
	}
	noPINStored := order(InTransit, "d1")
	noPINStored.Proof = ProofPIN
	tests := []struct {
		name       string
		from       Order
		req        Request
		wantCode   Code // "" for success
		wantStatus Status
		wantDriver string
	}{
		{"unassign clears the driver", order(Assigned, "d1"), Request{Action: ActionUnassign, Actor: d1, Reason: "flat tyre"}, "", Ready, ""},
		{"unassign by another driver", order(Assigned, "d1"), Request{Action: ActionUnassign, Actor: Actor{RoleDriver, "d2"}}, CodeForbidden, "", ""},
		{"unassign by dispatcher", order(Assigned, "d1"), Request{Action: ActionUnassign, Actor: op}, "", Ready, ""},
		{"unassign reason NUL", order(Assigned, "d1"), Request{Action: ActionUnassign, Actor: d1, Reason: "a\x00"}, CodeInvalidArgument, "", ""},
		{"unassign reason too long", order(Assigned, "d1"), Request{Action: ActionUnassign, Actor: d1, Reason: strings.Repeat("r", MaxReasonLen+1)}, CodeInvalidArgument, "", ""},
		{"reject of a broadcast order", order(Assigned, "d1"), Request{Action: ActionReject, Actor: d1}, CodeConflict, "", ""},
		{"reject of an auto order before respondBy", auto, reject(assignedAt.Add(29 * time.Second)), "", Ready, ""},
		{"reject of an auto order at respondBy", auto, reject(assignedAt.Add(30 * time.Second)), "", Ready, ""},
		{"reject of an auto order after respondBy", auto, reject(assignedAt.Add(31 * time.Second)), CodeConflict, "", ""},
		{"fail without reason", order(PickedUp, "d1"), Request{Action: ActionFail, Actor: d1}, CodeInvalidArgument, "", ""},
		{"fail unknown reason", order(PickedUp, "d1"), Request{Action: ActionFail, Actor: d1, Reason: "lazy"}, CodeInvalidArgument, "", ""},
		{"fail in transit", order(InTransit, "d1"), Request{Action: ActionFail, Actor: d1, Reason: "customer_absent"}, "", Failed, "d1"},
		{"fail by another driver", order(InTransit, "d1"), Request{Action: ActionFail, Actor: Actor{RoleDriver, "d2"}, Reason: "other"}, CodeForbidden, "", ""},
		{"assign", order(Ready, ""), Request{Action: ActionAssign, Actor: op, DriverID: "d7"}, "", Assigned, "d7"},
		{"assign bad driver id", order(Ready, ""), Request{Action: ActionAssign, Actor: op, DriverID: "d.7"}, CodeInvalidArgument, "", ""},
		{"assign no driver id", order(Ready, ""), Request{Action: ActionAssign, Actor: op}, CodeInvalidArgument, "", ""},
		{"assign when another has it", order(Assigned, "d1"), Request{Action: ActionAssign, Actor: op, DriverID: "d7"}, CodeConflict, "", ""},
		{"claim after a failure", order(Failed, "d1"), Request{Action: ActionClaim, Actor: Actor{RoleDriver, "d2"}}, CodeConflict, "", ""},
		{"dispatcher cancels any vendor's order", Order{ID: "o", VendorID: "v9", Status: Assigned, DriverID: "d1", Version: 3}, Request{Action: ActionCancel, Actor: op}, "", Cancelled, "d1"},
		{"deliver with the PIN", withPIN(InTransit), Request{Action: ActionDeliver, Actor: d1, PIN: "0421"}, "", Delivered, "d1"},
		{"deliver with a wrong PIN", withPIN(InTransit), Request{Action: ActionDeliver, Actor: d1, PIN: "0000"}, CodeInvalidArgument, "", ""},
		{"deliver without the PIN", withPIN(InTransit), Request{Action: ActionDeliver, Actor: d1}, CodeInvalidArgument, "", ""},
		{"deliver a PIN order whose PIN is lost", noPINStored, Request{Action: ActionDeliver, Actor: d1}, CodeInvalidArgument, "", ""},
		{"deliver retried without the PIN", withPIN(Delivered), Request{Action: ActionDeliver, Actor: d1}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, changed, err := Decide(tt.from, tt.req)
			if tt.wantCode != "" {
				code, _ := CodeOf(err)
				require.Equal(t, tt.wantCode, code, "err: %v", err)
				assert.Equal(t, tt.from, next)
				return
			}
			require.NoError(t, err)
			if tt.wantStatus == "" {
				assert.False(t, changed, "a retry changes nothing")
				return
			}
			require.True(t, changed)
			assert.Equal(t, tt.wantStatus, next.Status)
			assert.Equal(t, tt.wantDriver, next.DriverID)
			if tt.wantStatus == Failed {
				require.NotNil(t, next.Failure)
				assert.Equal(t, FailureReason(tt.req.Reason), next.Failure.Reason)
			}
		})
	}
}
