package parser_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    parser.Packet
		wantErr error
		// canonical inputs encode back byte for byte
		canonical bool
	}{
		{
			name: "connect main namespace", give: "0", canonical: true,
			want: parser.Packet{Type: parser.Connect, Namespace: "/"},
		},
		{
			name: "connect with auth", give: `0/custom,{"token":"abc"}`, canonical: true,
			want: parser.Packet{Type: parser.Connect, Namespace: "/custom", Data: raw(`{"token":"abc"}`)},
		},
		{
			name: "connect without comma", give: "0/random",
			want: parser.Packet{Type: parser.Connect, Namespace: "/random"},
		},
		{
			name: "disconnect namespace", give: "1/custom,", canonical: true,
			want: parser.Packet{Type: parser.Disconnect, Namespace: "/custom"},
		},
		{
			name: "event", give: `2["message","x"]`, canonical: true,
			want: parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["message","x"]`)},
		},
		{
			name: "event with ack id", give: `212["message-with-ack","hi"]`, canonical: true,
			want: parser.Packet{Type: parser.Event, Namespace: "/", ID: 12, HasID: true, Data: raw(`["message-with-ack","hi"]`)},
		},
		{
			name: "event in namespace with ack id", give: `2/drivers,17["pickup:claim",{"order":"o1"}]`, canonical: true,
			want: parser.Packet{Type: parser.Event, Namespace: "/drivers", ID: 17, HasID: true, Data: raw(`["pickup:claim",{"order":"o1"}]`)},
		},
		{
			name: "event with a number as name", give: `2[1,"a",{}]`, canonical: true,
			want: parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[1,"a",{}]`)},
		},
		{
			name: "ack", give: `312["hi"]`, canonical: true,
			want: parser.Packet{Type: parser.Ack, Namespace: "/", ID: 12, HasID: true, Data: raw(`["hi"]`)},
		},
		{
			name: "empty ack", give: `3/ns,0[]`, canonical: true,
			want: parser.Packet{Type: parser.Ack, Namespace: "/ns", ID: 0, HasID: true, Data: raw(`[]`)},
		},
		{
			name: "connect error", give: `4/admin,{"message":"Invalid namespace"}`, canonical: true,
			want: parser.Packet{Type: parser.ConnectError, Namespace: "/admin", Data: raw(`{"message":"Invalid namespace"}`)},
		},
		{
			name: "connect error as string", give: `4"Unauthorized"`, canonical: true,
			want: parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`"Unauthorized"`)},
		},
		{
			name: "binary event", give: `51-["message",{"_placeholder":true,"num":0}]`, canonical: true,
			want: parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Attachments: 1, Data: raw(`["message",{"_placeholder":true,"num":0}]`)},
		},
		{
			name: "binary ack in namespace", give: `61-/drivers,17[{"_placeholder":true,"num":0}]`, canonical: true,
			want: parser.Packet{Type: parser.BinaryAck, Namespace: "/drivers", Attachments: 1, ID: 17, HasID: true, Data: raw(`[{"_placeholder":true,"num":0}]`)},
		},
		{
			name: "ten attachments is the limit", give: `510-["a"]`, canonical: true,
			want: parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Attachments: 10, Data: raw(`["a"]`)},
		},
		{
			name: "explicit main namespace", give: `2/,["a"]`,
			want: parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a"]`)},
		},
		{
			name: "leading zeros in ack id", give: `2007["a"]`,
			want: parser.Packet{Type: parser.Event, Namespace: "/", ID: 7, HasID: true, Data: raw(`["a"]`)},
		},
		{
			name: "largest ack id", give: `29007199254740992["a"]`, canonical: true,
			want: parser.Packet{Type: parser.Event, Namespace: "/", ID: 1 << 53, HasID: true, Data: raw(`["a"]`)},
		},

		{name: "empty", give: "", wantErr: parser.ErrEmpty},
		{name: "unknown type", give: "999", wantErr: parser.ErrUnknownType},
		{name: "type is a letter", give: "a", wantErr: parser.ErrUnknownType},
		{name: "binary without count", give: "5", wantErr: parser.ErrAttachments},
		{name: "binary count without dash", give: "51", wantErr: parser.ErrAttachments},
		{name: "binary count not a number", give: "5a-", wantErr: parser.ErrAttachments},
		{name: "binary count with a fraction", give: "51.23-", wantErr: parser.ErrAttachments},
		{name: "eleven attachments", give: `511-["a"]`, wantErr: parser.ErrAttachments},
		{name: "huge attachment count", give: `5999999999-["a"]`, wantErr: parser.ErrAttachments},
		{name: "binary with nothing after the dash", give: "51-", wantErr: parser.ErrInvalidPayload},
		{name: "binary with zero attachments and nothing else", give: "50-", wantErr: parser.ErrInvalidPayload},
		{name: "ack id past 2^53", give: `29007199254740993["a"]`, wantErr: parser.ErrAckID},
		{name: "ack id past uint64", give: `2` + strings.Repeat("9", 30) + `["a"]`, wantErr: parser.ErrAckID},
		{name: "ack id followed by letters", give: `2abc["a"]`, wantErr: parser.ErrInvalidPayload},
		{name: "truncated JSON", give: `442["some","data"`, wantErr: parser.ErrInvalidPayload},
		{name: "connect with a string", give: `0/admin,"invalid"`, wantErr: parser.ErrInvalidPayload},
		{name: "connect with an array", give: "0[]", wantErr: parser.ErrInvalidPayload},
		{name: "connect with an ack id", give: "01{}", wantErr: parser.ErrAckID},
		{name: "disconnect with payload", give: "1/admin,{}", wantErr: parser.ErrInvalidPayload},
		{name: "event with an unterminated string", give: `2/admin,"invalid`, wantErr: parser.ErrInvalidPayload},
		{name: "event with an object", give: "2/admin,{}", wantErr: parser.ErrInvalidPayload},
		{name: "event without payload", give: "2", wantErr: parser.ErrInvalidPayload},
		{name: "event with empty array", give: "2[]", wantErr: parser.ErrInvalidPayload},
		{name: "event named by an object (CVE-2023-32695)", give: `2[{"toString":"foo"}]`, wantErr: parser.ErrInvalidPayload},
		{name: "event named by a bool", give: `2[true,"foo"]`, wantErr: parser.ErrInvalidPayload},
		{name: "event named by null", give: `2[null,"bar"]`, wantErr: parser.ErrInvalidPayload},
		{name: "event named by an array", give: `2[["a"]]`, wantErr: parser.ErrInvalidPayload},
		{name: "reserved event connect", give: `2["connect"]`, wantErr: parser.ErrInvalidPayload},
		{name: "reserved event disconnect", give: `2["disconnect","123"]`, wantErr: parser.ErrInvalidPayload},
		{name: "reserved event newListener", give: `2/ns,["newListener"]`, wantErr: parser.ErrInvalidPayload},
		{name: "binary event named by a placeholder", give: `51-[{"_placeholder":true,"num":0}]`, wantErr: parser.ErrInvalidPayload},
		{name: "ack without id", give: `3["a"]`, wantErr: parser.ErrInvalidPayload},
		{name: "ack with an object", give: `31{}`, wantErr: parser.ErrInvalidPayload},
		{name: "connect error without payload", give: "4", wantErr: parser.ErrInvalidPayload},
		{name: "connect error with an array", give: "4[]", wantErr: parser.ErrInvalidPayload},
		{name: "invalid JSON after a namespace", give: `2/admin,["a",]`, wantErr: parser.ErrInvalidPayload},
		{name: "namespace without comma swallows the payload", give: `2/admin["a"]`, wantErr: parser.ErrInvalidPayload},
		{name: "trailing garbage after JSON", give: `2["a"]x`, wantErr: parser.ErrInvalidPayload},
		{name: "two JSON values", give: `2["a"]["b"]`, wantErr: parser.ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parser.Decode([]byte(tt.give))
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantErr != nil {
				return
			}
			assert.Equal(t, tt.want, got)
			enc := got.Append(nil)
			if tt.canonical {
				assert.Equal(t, tt.give, string(enc))
			}
			again, err := parser.Decode(enc)
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestSplitArray(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    []string
		wantErr error
	}{
		{name: "empty", give: "[]", want: nil},
		{name: "empty with spaces", give: " [ ] ", want: nil},
		{name: "one string", give: `["a"]`, want: []string{`"a"`}},
		{name: "event and args", give: `["message",1,true,null,{"a":[1,2]},[3,{"b":"}"}]]`,
			want: []string{`"message"`, `1`, `true`, `null`, `{"a":[1,2]}`, `[3,{"b":"}"}]`}},
		{name: "strings with brackets, commas and escapes", give: `["a,b","[",  "]" , "\"],\\", "\u005d"]`,
			want: []string{`"a,b"`, `"["`, `"]"`, `"\"],\\"`, `"\u005d"`}},
		{name: "whitespace around elements is trimmed", give: "[ 1 ,\n\t2\r\n ]", want: []string{"1", "2"}},
		{name: "placeholder", give: `["m",{"_placeholder":true,"num":0}]`, want: []string{`"m"`, `{"_placeholder":true,"num":0}`}},
		{name: "nested arrays", give: `[[[[]]],[]]`, want: []string{`[[[]]]`, `[]`}},
		{name: "numbers", give: `[-1.5e10,0]`, want: []string{`-1.5e10`, `0`}},

		{name: "object", give: `{"a":1}`, wantErr: parser.ErrInvalidPayload},
		{name: "string", give: `"a"`, wantErr: parser.ErrInvalidPayload},
		{name: "nothing", give: "", wantErr: parser.ErrInvalidPayload},
		{name: "only spaces", give: "   ", wantErr: parser.ErrInvalidPayload},
		{name: "unterminated", give: `["a"`, wantErr: parser.ErrInvalidPayload},
		{name: "unterminated string", give: `["a]`, wantErr: parser.ErrInvalidPayload},
		{name: "leading comma", give: `[,1]`, wantErr: parser.ErrInvalidPayload},
		{name: "double comma", give: `[1,,2]`, wantErr: parser.ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parser.SplitArray([]byte(tt.give))
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantErr != nil {
				return
			}
			var gotS []string
			for _, e := range got {
				gotS = append(gotS, string(e))
			}
			assert.Equal(t, tt.want, gotS)
		})
	}
}

func TestCheckPlaceholders(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		n       int
		wantErr error
	}{
		{name: "no placeholder", give: `["a",1]`, n: 0},
		{name: "one placeholder", give: `["a",{"_placeholder":true,"num":0}]`, n: 1},
		{name: "nested placeholder", give: `["a",{"x":[{"_placeholder":true,"num":1}]}]`, n: 2},
		{name: "placeholder false is plain data", give: `["a",{"_placeholder":false,"num":"x"}]`, n: 0},
		{name: "unused attachment is fine", give: `["a"]`, n: 1},

		// CVE-2022-2421: placeholders whose num is not an attachment index.
		{name: "num names a method", give: `["a",{"_placeholder":true,"num":"splice"}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num is toString", give: `["a",{"_placeholder":true,"num":"toString"}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num is __proto__", give: `["a",{"_placeholder":true,"num":"__proto__"}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num is a numeric string", give: `["a",{"_placeholder":true,"num":"0"}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num out of range", give: `["a",{"_placeholder":true,"num":1}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num negative", give: `["a",{"_placeholder":true,"num":-1}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num fractional", give: `["a",{"_placeholder":true,"num":0.5}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num huge", give: `["a",{"_placeholder":true,"num":1e300}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num overflows float64", give: `["a",{"_placeholder":true,"num":1e309}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num missing", give: `["a",{"_placeholder":true}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num is null", give: `["a",{"_placeholder":true,"num":null}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "num is an object", give: `["a",{"_placeholder":true,"num":{"valueOf":0}}]`, n: 1, wantErr: parser.ErrAttachments},
		{name: "placeholder without attachments", give: `["a",{"_placeholder":true,"num":0}]`, n: 0, wantErr: parser.ErrAttachments},
		{name: "bad placeholder deep inside", give: `["a",[[{"b":{"_placeholder":true,"num":7}}]]]`, n: 2, wantErr: parser.ErrAttachments},
		{name: "invalid JSON", give: `["a",`, n: 0, wantErr: parser.ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, parser.CheckPlaceholders([]byte(tt.give), tt.n), tt.wantErr)
		})
	}
}
