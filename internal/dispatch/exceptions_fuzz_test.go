package dispatch

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// FuzzActionRequest feeds arbitrary arguments of order:unassign,
// order:reject, order:failed and order:delivered through their decoding
// and the domain's decision: never a panic, every refusal of the input a
// client error, and a delivery succeeds exactly when the PIN matches.
func FuzzActionRequest(f *testing.F) {
	for _, seed := range []string{
		`{"orderId":"0190a6a0-0000-7000-8000-000000000000","reason":"refused"}`,
		`{"orderId":"x","proof":{"pin":"0421"}}`, `{"proof":{"pin":421}}`, `{"proof":"signed"}`,
		`{"proof":[{"pin":"0421"}]}`, `{"reason":"\u0000"}`, `{"reason":7}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	driver := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	f.Fuzz(func(t *testing.T, arg []byte) {
		var in actionRequest
		if err := decode(&transport.Message{Args: []json.RawMessage{arg}}, &in); err != nil {
			assertClientError(t, err)
			return
		}
		o := orders.Order{ID: "o", VendorID: "v1", DriverID: "d1", Status: orders.InTransit, Version: 4,
			Proof: orders.ProofPIN, PIN: "0421", Dispatch: orders.Dispatch{Strategy: orders.StrategyAuto}}
		_, changed, err := orders.Decide(o, orders.Request{Action: orders.ActionDeliver, Actor: driver, Reason: in.Reason, PIN: in.pin()})
		reasonOK := in.Reason == "" || orders.CheckText("reason", in.Reason, orders.MaxReasonLen) == nil
		wantOK := in.pin() == "0421" && reasonOK
		require.Equal(t, wantOK, changed, "err: %v", err)
		assertClientError(t, err)
		for _, a := range []orders.Action{orders.ActionFail, orders.ActionUnassign, orders.ActionReject} {
			_, _, err := orders.Decide(o, orders.Request{Action: a, Actor: driver, Reason: in.Reason})
			if code, _ := orders.CodeOf(err); code != orders.CodeConflict {
				assertClientError(t, err)
			}
		}
	})
}
