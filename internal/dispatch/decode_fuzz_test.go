package dispatch

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// FuzzPayloadValidation feeds arbitrary event arguments through the same
// decoding and validation the handlers use: never a panic, and every
// refusal is a client error, never internal.
func FuzzPayloadValidation(f *testing.F) {
	for _, seed := range []string{
		`{"store":"s","customerId":"c1","pickup":{"address":"a","lat":1,"lng":2},"dropoff":{"address":"b","lat":3,"lng":4}}`,
		`{"store":"s","customerId":"c1","items":[{"name":"x","qty":1e400}]}`,
		`{"orderId":"0190a6a0-0000-7000-8000-000000000000"}`,
		`{"lat":1e309,"lng":-0}`, `{"__proto__":{"ok":true}}`, `[]`, `null`, `"x"`, `{`, ``,
		`{"store":"\ud800","customerId":"c1"}`, `{"items":[[[[[[[[[[]]]]]]]]]]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, arg []byte) {
		m := &transport.Message{Args: []json.RawMessage{arg}}
		n := orders.NewOrderInput()
		if err := decode(m, &n); err == nil {
			err = n.Validate()
			assertClientError(t, err)
		} else {
			assertClientError(t, err)
		}
		_, err := orderID(m)
		assertClientError(t, err)
		loc := Location{Lat: orders.NoCoordinate(), Lng: orders.NoCoordinate()}
		if decode(m, &loc) == nil {
			assertClientError(t, orders.CheckCoordinates(loc.Lat, loc.Lng))
		}
	})
}

func assertClientError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	code, _ := orders.CodeOf(err)
	require.Equal(t, orders.CodeInvalidArgument, code, "%v", err)
}

// FuzzDutyRequest: driver:duty's decoder never panics, refuses with a
// client error only, and accepts exactly a JSON object whose onDuty is
// a boolean, returning that boolean.
func FuzzDutyRequest(f *testing.F) {
	for _, seed := range []string{
		`{"onDuty":true}`, `{"onDuty":false}`, `{"onDuty":null}`, `{"onDuty":"true"}`, `{"onDuty":1}`,
		`{}`, `[]`, `null`, `true`, `{`, ``, `{"onDuty":true,"onDuty":false}`, `{"ONDUTY":true}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, arg []byte) {
		onDuty, err := dutyRequest(&transport.Message{Args: []json.RawMessage{arg}})
		assertClientError(t, err)
		if err != nil {
			return
		}
		var ref map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(arg, &ref))
		var want bool
		require.NoError(t, json.Unmarshal(arg, &struct {
			OnDuty *bool `json:"onDuty"`
		}{&want}))
		require.Equal(t, want, onDuty)
	})
}
