package orders

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// FailureReason says why a driver could not deliver an order.
type FailureReason string

// The failure reasons of the contract.
const (
	ReasonCustomerAbsent  FailureReason = "customer_absent"
	ReasonAddressNotFound FailureReason = "address_not_found"
	ReasonRefused         FailureReason = "refused"
	ReasonDamaged         FailureReason = "damaged"
	ReasonOther           FailureReason = "other"
)

// Valid reports whether r is one of the contract's failure reasons.
func (r FailureReason) Valid() bool {
	switch r {
	case ReasonCustomerAbsent, ReasonAddressNotFound, ReasonRefused, ReasonDamaged, ReasonOther:
		return true
	}
	return false
}

// Failure is set on a failed order.
type Failure struct {
	Reason FailureReason `json:"reason"`
	At     time.Time     `json:"at"`
}

// Strategy is how a ready order finds its driver.
type Strategy string

// Dispatch strategies; broadcast is the default and the v1 behaviour.
const (
	StrategyBroadcast Strategy = "broadcast"
	StrategyNearest   Strategy = "nearest"
	StrategyAuto      Strategy = "auto"
)

// Valid reports whether s is a known strategy.
func (s Strategy) Valid() bool {
	switch s {
	case StrategyBroadcast, StrategyNearest, StrategyAuto:
		return true
	}
	return false
}

// Dispatch is the order's dispatch settings.
type Dispatch struct {
	Strategy Strategy `json:"strategy"`
}

// Proof is what a delivery must show: ProofNone or ProofPIN.
type Proof string

// Proofs of delivery.
const (
	ProofNone Proof = ""
	ProofPIN  Proof = "pin"
)

// Valid reports whether p is a known proof kind.
func (p Proof) Valid() bool { return p == ProofNone || p == ProofPIN }

// Request is one action on an order with its arguments. Apply takes the
// common case (action and actor only); Decide takes a Request.
type Request struct {
	Action Action
	Actor  Actor
	// DriverID is the driver a dispatcher assigns the order to (ActionAssign).
	DriverID string
	// Reason is the failure reason (ActionFail, required) or the driver's
	// or dispatcher's free-text reason (unassign, reject, cancel; optional).
	Reason string
	// PIN is the proof a driver shows when delivering an order with ProofPIN.
	PIN string
	// RespondBy is the deadline of an automatic assignment (ActionAssign
	// by the auto strategy): it travels on the change's event to the
	// driver's order:assigned.
	RespondBy time.Time
	// At and RespondWithin let a reject check the deadline: the order's
	// last change (its assignment) plus RespondWithin must not be before
	// At. A zero RespondWithin skips the check.
	At            time.Time
	RespondWithin time.Duration
	// ETA, when set, estimates the seconds the order's driver needs to
	// its next stop after the change, nil when it cannot tell. It is
	// decided by the caller (who knows where drivers are) and travels on
	// the change's event to order:status; the stored log does not keep it.
	ETA func(next Order) *int
}

// MaxReasonLen bounds a free-text reason.
const MaxReasonLen = MaxTextLen

// validate checks the request's own arguments, before any state is read.
func (r Request) validate() error {
	switch r.Action {
	case ActionFail:
		if !FailureReason(r.Reason).Valid() {
			return Errorf(CodeInvalidArgument,
				"reason must be one of customer_absent, address_not_found, refused, damaged, other")
		}
	case ActionAssign:
		if !ValidName(r.DriverID) {
			return Errorf(CodeInvalidArgument, "driverId must be 1-%d letters, digits, '_' or '-'", MaxNameLen)
		}
	default:
		if r.Reason != "" {
			return CheckText("reason", r.Reason, MaxReasonLen)
		}
	}
	return nil
}

// PINDigits is the length of a delivery PIN.
const PINDigits = 4

// NewPIN returns a random PIN of PINDigits decimal digits from
// crypto/rand: it guards a delivery, so it must not be predictable.
func NewPIN() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		return "", fmt.Errorf("make PIN: %w", err)
	}
	return fmt.Sprintf("%04d", n.Int64()), nil
}
