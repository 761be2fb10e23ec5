package dispatch

import (
	"encoding/json"
	"errors"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// errorBody is the contract's error object.
type errorBody struct {
	Code    orders.Code `json:"code"`
	Message string      `json:"message"`
}

type failure struct {
	OK    bool      `json:"ok"`
	Error errorBody `json:"error"`
}

// ok answers an event with {"ok":true, ...fields}.
func ok(ack transport.Ack, fields map[string]any) {
	if ack == nil {
		return
	}
	body := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		body[k] = v
	}
	body["ok"] = true
	_ = ack(body)
}

// fail answers with the contract's error object. Internal errors are
// logged here, at the edge, and reach the client only as "internal".
func fail(ack transport.Ack, log *zap.Logger, err error) {
	code, msg := orders.CodeOf(err)
	if code == orders.CodeInternal {
		log.Error("event failed", zap.Error(err))
	}
	if ack == nil {
		return
	}
	_ = ack(failure{Error: errorBody{Code: code, Message: msg}})
}

var errNoPayload = orders.Errorf(orders.CodeInvalidArgument, "the event needs one JSON object argument")

// decode reads the event's first argument into v. Unknown fields are
// ignored; wrong types and non-objects are invalid_argument.
func decode(m *transport.Message, v any) error {
	if len(m.Args) == 0 || len(m.Args[0]) == 0 || m.Args[0][0] != '{' {
		return errNoPayload
	}
	if err := json.Unmarshal(m.Args[0], v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return orders.Errorf(orders.CodeInvalidArgument, "field %q has the wrong type", te.Field)
		}
		return orders.Errorf(orders.CodeInvalidArgument, "payload is not valid JSON")
	}
	return nil
}

// decodeOptional is decode for events whose argument may be left out.
func decodeOptional(m *transport.Message, v any) error {
	if len(m.Args) == 0 {
		return nil
	}
	return decode(m, v)
}

// orderID reads the {orderId} argument most events take and validates it
// before it reaches a room name or a query.
func orderID(m *transport.Message) (string, error) {
	var ref struct {
		OrderID string `json:"orderId"`
	}
	if err := decode(m, &ref); err != nil {
		return "", err
	}
	return ref.OrderID, orders.CheckID(ref.OrderID)
}
