package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// seedPackets are real Socket.IO packets (from the protocol captures) and
// the inputs behind socket.io-parser's CVE-2022-2421 (placeholders whose
// num is not an attachment index) and CVE-2023-32695 (event names that are
// not strings, counts and payloads that crashed older decoders).
var seedPackets = []string{
	"0",
	"40", // Engine.IO type digit left on: CONNECT_ERROR with a number
	`0{"token":"abc"}`,
	`0/custom,{"token":"abc"}`,
	"0/random",
	"0/admin,",
	`0{"pid":"kwie","offset":"Q8WC995","token":"t"}`,
	`0{"sid":"nB9Q"}`,
	"1", "1/custom,",
	`2["message","x"]`,
	`2["order:status",{"orderId":"o-1","status":"picked_up","at":"2024-05-01T12:00:00Z"}]`,
	`2/drivers,17["pickup:claim",{"orderId":"o-1"}]`,
	`212["message-with-ack","hi"]`,
	`2[1,"a",{}]`,
	`312["hi"]`,
	`3/ns,0[]`,
	`4{"message":"Invalid namespace"}`,
	`4/admin,{"message":"Invalid namespace"}`,
	`4/drivers,{"message":"unauthorized","data":{"code":"unauthorized"}}`,
	`4"Unauthorized"`,
	`51-["message",{"_placeholder":true,"num":0}]`,
	`52-["m",{"_placeholder":true,"num":0},{"a":[{"_placeholder":true,"num":1}]}]`,
	`61-/drivers,17[{"_placeholder":true,"num":0}]`,
	`50-["no binary after all"]`,
	`510-["a"]`,
	// CVE-2022-2421
	`51-["hello",{"_placeholder":true,"num":"splice"}]`,
	`51-["a",{"_placeholder":true,"num":"__proto__"}]`,
	`51-["a",{"_placeholder":true,"num":"toString"}]`,
	`51-["a",{"_placeholder":true,"num":1e309}]`,
	`51-["a",{"_placeholder":true,"num":1e300}]`,
	`51-["a",{"_placeholder":true,"num":-1}]`,
	`51-["a",{"_placeholder":true,"num":1.5}]`,
	`51-["a",{"_placeholder":true,"num":1}]`,
	`51-["a",{"_placeholder":true,"num":{"_placeholder":true,"num":0}}]`,
	`52-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":5}}]`,
	`51-["a",{"__proto__":{"_placeholder":true,"num":0}}]`,
	`2["a",{"_placeholder":true,"num":0}]`,
	// CVE-2023-32695
	`52-["a",{"_placeholder":true,"num":"1"}]`,
	`5999999999-["a"]`,
	`5010-["a"]`,
	"51-",
	"51-/admin,",
	`2/admin,["a",]`,
	`2/admin,{`,
	`2[{"toString":"foo"}]`,
	`2[true,"foo"]`,
	`2[null,"bar"]`,
	`2["connect"]`,
	`2["disconnect","123"]`,
	`442["some","data"`,
	"5", "51", "5a-", "51.23-", "999",
	`29007199254740993["a"]`,
	`2` + strings.Repeat("9", 40) + `["a"]`,
	"2" + strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
}

// FuzzDecode checks that Decode never panics and that what it accepts
// encodes back to an equal packet, byte for byte when the input is in the
// form Append writes.
func FuzzDecode(f *testing.F) {
	for _, s := range seedPackets {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		p, err := parser.Decode(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("Decode modified its input")
		}
		for _, i := range []int{1, 2, len(b) / 2, len(b) - 1} {
			if i > 0 && i < len(b) {
				_, _ = parser.Decode(b[:i])
				_, _ = parser.Decode(b[i:])
			}
		}
		if err != nil {
			if !isDecodeError(err) {
				t.Fatalf("error %v matches no sentinel", err)
			}
			return
		}
		checkDecoded(t, p)
		enc := p.Append(nil)
		again, err := parser.Decode(enc)
		if err != nil {
			t.Fatalf("%q re-encoded as %q, which does not decode: %v", b, enc, err)
		}
		requireEqualPacket(t, p, again)
		if enc2 := again.Append(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q then %q", enc, enc2)
		}
		if isCanonical(b, p) && !bytes.Equal(enc, b) {
			t.Fatalf("canonical %q re-encoded as %q", b, enc)
		}
	})
}

// isCanonical reports whether b is written the way Append writes p: no
// leading zeros in the counts, no explicit "/," and a comma after every
// other namespace.
func isCanonical(b []byte, p parser.Packet) bool {
	rest := b[1:]
	if p.Type == parser.BinaryEvent || p.Type == parser.BinaryAck {
		if len(rest) > 1 && rest[0] == '0' && rest[1] != '-' {
			return false
		}
		rest = rest[bytes.IndexByte(rest, '-')+1:]
	}
	if len(rest) > 0 && rest[0] == '/' {
		i := bytes.IndexByte(rest, ',')
		if i < 0 || string(rest[:i]) == "/" {
			return false
		}
		rest = rest[i+1:]
	}
	if p.HasID && len(rest) > 1 && rest[0] == '0' && rest[1] >= '0' && rest[1] <= '9' {
		return false
	}
	return true
}

// checkDecoded asserts the invariants every accepted packet keeps; they
// bound what a hostile peer can make the server hold.
func checkDecoded(t *testing.T, p parser.Packet) {
	t.Helper()
	if p.Type > parser.BinaryAck {
		t.Fatalf("type %d out of range", p.Type)
	}
	if p.Attachments < 0 || p.Attachments > parser.MaxAttachments {
		t.Fatalf("%d attachments, limit %d", p.Attachments, parser.MaxAttachments)
	}
	if p.Attachments > 0 && p.Type != parser.BinaryEvent && p.Type != parser.BinaryAck {
		t.Fatalf("attachments on type %d", p.Type)
	}
	if p.Namespace == "" || p.Namespace[0] != '/' || strings.Contains(p.Namespace, ",") {
		t.Fatalf("namespace %q", p.Namespace)
	}
	if p.HasID && p.ID > 1<<53 {
		t.Fatalf("ack id %d past 2^53", p.ID)
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("invalid JSON accepted: %q", p.Data)
	}
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		name, err := parser.EventName(p.Data)
		if err != nil || parser.IsReserved(name) {
			t.Fatalf("event name %q: %v", name, err)
		}
		if _, err := parser.SplitArray(p.Data); err != nil {
			t.Fatalf("event payload %q does not split: %v", p.Data, err)
		}
	case parser.Ack, parser.BinaryAck:
		if !p.HasID {
			t.Fatal("ack without id")
		}
		if _, err := parser.SplitArray(p.Data); err != nil {
			t.Fatalf("ack payload %q does not split: %v", p.Data, err)
		}
	}
}

// FuzzDecoder feeds a text packet and then binary messages cut from bin
// through one Decoder, as a session's reader does, followed by a second
// text packet to check the decoder's state afterwards.
func FuzzDecoder(f *testing.F) {
	for _, s := range seedPackets {
		f.Add([]byte(s), []byte{1, 2, 3}, uint8(1), []byte(`2["next"]`))
	}
	f.Add([]byte(`52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), []byte{1, 2, 3, 4}, uint8(2), []byte(`2["x"]`))
	f.Add([]byte(`52-["a",{"_placeholder":true,"num":"1"}]`), []byte{1, 2}, uint8(2), []byte(`2["x"]`))
	f.Add([]byte(`52-["a",{"_placeholder":true,"num":1}]`), []byte{1, 2}, uint8(1), []byte(`51-["x"]`))
	f.Add([]byte(`510-["a"]`), bytes.Repeat([]byte{9}, 40), uint8(12), []byte(`2["x"]`))
	f.Fuzz(func(t *testing.T, text, bin []byte, parts uint8, next []byte) {
		var d parser.Decoder
		p, atts, done, err := d.Add(text, false)
		single, singleErr := parser.Decode(text)
		if singleErr != nil {
			if err == nil {
				t.Fatalf("Decoder accepted %q that Decode refuses: %v", text, singleErr)
			}
			return
		}
		pending := false
		switch {
		case err != nil:
			// Only a binary packet without attachments is checked further.
			if single.Attachments != 0 || (single.Type != parser.BinaryEvent && single.Type != parser.BinaryAck) {
				t.Fatalf("Decoder refused %q that Decode accepts: %v", text, err)
			}
			return
		case done:
			checkComplete(t, p, atts)
			requireEqualPacket(t, single, p)
		default:
			pending = true
			if single.Attachments == 0 {
				t.Fatalf("pending without attachments for %q", text)
			}
		}

		// Cut bin into parts binary messages (some may be empty).
		n := int(parts % 13)
		for i := 0; i < n && pending; i++ {
			lo, hi := len(bin)*i/n, len(bin)*(i+1)/n
			p, atts, done, err = d.Add(bin[lo:hi], true)
			switch {
			case err != nil:
				if !errors.Is(err, parser.ErrAttachments) && !errors.Is(err, parser.ErrInvalidPayload) {
					t.Fatalf("attachment %d: unexpected error %v", i, err)
				}
				pending = false
			case done:
				pending = false
				checkComplete(t, p, atts)
				if i+1 != single.Attachments {
					t.Fatalf("complete after %d attachments, announced %d", i+1, single.Attachments)
				}
				if err := parser.CheckPlaceholders(p.Data, len(atts)); err != nil {
					t.Fatalf("bad placeholders passed: %v", err)
				}
				for j, a := range atts {
					alo, ahi := len(bin)*j/n, len(bin)*(j+1)/n
					if !bytes.Equal(a, bin[alo:ahi]) {
						t.Fatalf("attachment %d is %x, sent %x", j, a, bin[alo:ahi])
					}
				}
			}
		}

		// Text while attachments are due is a protocol error; otherwise
		// the decoder is ready for the next packet.
		_, _, _, err = d.Add(next, false)
		if pending {
			if !errors.Is(err, parser.ErrUnexpectedText) {
				t.Fatalf("text during attachments: got %v", err)
			}
			return
		}
		if _, werr := parser.Decode(next); (werr == nil) != (err == nil) && !isBinaryStart(next) {
			t.Fatalf("next packet %q: decoder %v, Decode %v", next, err, werr)
		}
	})
}

func isBinaryStart(b []byte) bool { return len(b) > 0 && (b[0] == '5' || b[0] == '6') }

func checkComplete(t *testing.T, p parser.Packet, atts [][]byte) {
	t.Helper()
	checkDecoded(t, p)
	if len(atts) != p.Attachments {
		t.Fatalf("%d attachments delivered, %d announced", len(atts), p.Attachments)
	}
}

func isDecodeError(err error) bool {
	for _, s := range []error{parser.ErrEmpty, parser.ErrUnknownType, parser.ErrAttachments, parser.ErrAckID, parser.ErrInvalidPayload} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func requireEqualPacket(t *testing.T, want, got parser.Packet) {
	t.Helper()
	if want.Type != got.Type || want.Namespace != got.Namespace || want.ID != got.ID ||
		want.HasID != got.HasID || want.Attachments != got.Attachments || !bytes.Equal(want.Data, got.Data) {
		t.Fatalf("packet %+v (data %q), want %+v (data %q)", got, got.Data, want, want.Data)
	}
}
