package transport

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// TestEncodeWire pins the bytes of packets without and with attachments:
// text-only packets are written straight into their frame, the others
// after their payload, and both must read the same on the wire.
func TestEncodeWire(t *testing.T) {
	ack := parser.Packet{Type: parser.Ack, Namespace: "/drivers", ID: 7, HasID: true}
	tests := []struct {
		name string
		pkt  parser.Packet
		ev   string
		args []any
		want []string
	}{
		{
			name: "durable event", pkt: parser.Packet{Type: parser.Event, Namespace: "/drivers", ID: 12, HasID: true},
			ev: "pickup:available", args: []any{json.RawMessage(`{"seq":1}`)},
			want: []string{`42/drivers,12["pickup:available",{"seq":1}]`},
		},
		{
			name: "root namespace, no id, several kinds", pkt: parser.Packet{Type: parser.Event, Namespace: "/"},
			ev: "a\"b", args: []any{"x\ny", 3, true, nil, map[string]int{"k": 1}},
			want: []string{`42["a\"b","x\ny",3,true,null,{"k":1}]`},
		},
		{
			name: "ack of nothing", pkt: ack,
			want: []string{`43/drivers,7[]`},
		},
		{
			name: "message without args", pkt: parser.Packet{Type: parser.Event, Namespace: "/x"},
			ev: "e", args: []any{&Message{}},
			want: []string{`42/x,["e"]`},
		},
		{
			name: "message args spliced", pkt: ack,
			args: []any{&Message{Args: []json.RawMessage{[]byte(`1`), []byte(`{"a":2}`)}}},
			want: []string{`43/drivers,7[1,{"a":2}]`},
		},
		{
			name: "binary attachment", pkt: ack,
			args: []any{[]byte{0xff}, "s"},
			want: []string{`461-/drivers,7[{"_placeholder":true,"num":0},"s"]`, "\xff"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, err := encode(tt.pkt, tt.ev, tt.args, false)
			require.NoError(t, err)
			got := make([]string, len(frames))
			for i, f := range frames {
				got[i] = string(f.Wire())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
