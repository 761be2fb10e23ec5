package engineio_test

import (
	"bytes"
	"testing"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// realPayloads are long-polling bodies and WebSocket text frames taken from
// the protocol captures in shared/SOCKETIO-PROTOCOL.md.
var realPayloads = []string{
	`0{"sid":"OOkB2MA7z6vt0kjqAAG8","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`,
	`0{"sid":"OOkB2MA7z6vt0kjqAAG8","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
	"4hello\x1ebAQIDBA==",
	"2probe",
	"3probe",
	"2", "3", "5", "6", "1",
	`40{"token":"abc"}`,
	"40{\"sid\":\"nB9Q\"}\x1e42[\"auth\",{\"token\":\"abc\"}]",
	`4212["message-with-ack","hi"]`,
	"4312[\"hi\"]\x1e2",
	"451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
	"451-[\"message-back\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
	"452-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]\x1eb\x1ebAA==",
	`440/admin,{"message":"Invalid namespace"}`,
	"441/custom,",
	"4\x1e4\x1e4",
	"b",
	"bAQIDBA",    // unpadded
	"bAQ\nID",    // base64 with a newline, which the std decoder skips
	"bAR==",      // non-zero trailing bits
	"4a\x1e\x1e", // empty records
	"\x1e",
	"7", "b!!",
}

// FuzzDecodePayload checks that DecodePayload never panics, that what it
// accepts encodes back to an equivalent body (byte for byte when the input
// is canonical), and that splitting a body at a record separator decodes to
// the same packets as the whole.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range realPayloads {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		pkts, err := engineio.DecodePayload(body)
		if !bytes.Equal(body, orig) {
			t.Fatalf("DecodePayload modified its input")
		}
		checkHalves(t, body, pkts, err)
		checkLazy(t, body, pkts, err)
		if err != nil {
			if pkts != nil {
				t.Fatalf("error %v with %d packets", err, len(pkts))
			}
			return
		}
		if len(pkts) == 0 {
			t.Fatalf("no packets and no error for %q", body)
		}
		for _, p := range pkts {
			checkPacket(t, p)
		}
		enc := engineio.EncodePayload(pkts)
		again, err := engineio.DecodePayload(enc)
		if err != nil {
			t.Fatalf("re-encoded body %q does not decode: %v", enc, err)
		}
		requireSamePackets(t, pkts, again)
		// The first encoding is canonical: encoding it again is stable.
		if enc2 := engineio.EncodePayload(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q then %q", enc, enc2)
		}
		if isCanonicalPayload(body) && !bytes.Equal(enc, body) {
			t.Fatalf("canonical body %q re-encoded as %q", body, enc)
		}
	})
}

// checkHalves decodes body split at every record separator and at a few
// other points. At a separator the two halves must decode to exactly the
// packets of the whole; elsewhere they only must not panic.
func checkHalves(t *testing.T, body []byte, whole []engineio.Packet, wholeErr error) {
	t.Helper()
	seps := 0
	for i, c := range body {
		if c != 0x1e {
			continue
		}
		seps++
		if seps > 16 {
			break // enough to catch boundary bugs; keeps long inputs fast
		}
		a, errA := engineio.DecodePayload(body[:i])
		b, errB := engineio.DecodePayload(body[i+1:])
		if (errA == nil && errB == nil) != (wholeErr == nil) {
			t.Fatalf("split at %d: halves errors %v, %v; whole %v", i, errA, errB, wholeErr)
		}
		if wholeErr == nil {
			requireSamePackets(t, whole, append(a, b...))
		}
	}
	for _, i := range []int{1, len(body) / 2, len(body) - 1} {
		if i > 0 && i < len(body) {
			_, _ = engineio.DecodePayload(body[:i])
			_, _ = engineio.DecodePayload(body[i:])
		}
	}
}

// checkLazy checks that Payload yields what DecodePayload returns: the
// same packets, or a prefix of the body's good records and then the same
// error, once, and nothing after it.
func checkLazy(t *testing.T, body []byte, whole []engineio.Packet, wholeErr error) {
	t.Helper()
	var got []engineio.Packet
	var lazyErr error
	for p, err := range engineio.Payload(body) {
		if lazyErr != nil {
			t.Fatalf("yielded %+v, %v after the error %v", p, err, lazyErr)
		}
		if err != nil {
			lazyErr = err
			continue
		}
		checkPacket(t, p)
		got = append(got, p)
	}
	if (lazyErr == nil) != (wholeErr == nil) || (lazyErr != nil && lazyErr.Error() != wholeErr.Error()) {
		t.Fatalf("Payload error %v, DecodePayload error %v", lazyErr, wholeErr)
	}
	if wholeErr == nil {
		requireSamePackets(t, whole, got)
		return
	}
	// The good records before the bad one decode on their own.
	if len(got) > 0 {
		end := 0
		for range got {
			end += bytes.IndexByte(body[end:], 0x1e) + 1
		}
		prefix, err := engineio.DecodePayload(body[:end-1])
		if err != nil {
			t.Fatalf("good prefix %q: %v", body[:end-1], err)
		}
		requireSamePackets(t, prefix, got)
	}
}

// isCanonicalPayload reports whether body is in the form EncodePayload
// writes: base64 records padded, with zero trailing bits and no line breaks.
func isCanonicalPayload(body []byte) bool {
	for rec := range bytes.SplitSeq(body, []byte{0x1e}) {
		if len(rec) == 0 || rec[0] != 'b' {
			continue
		}
		if bytes.ContainsAny(rec, "\r\n") {
			return false
		}
		pkts, err := engineio.DecodePayload(rec)
		if err != nil || !bytes.Equal(pkts[0].AppendPolling(nil), rec) {
			return false
		}
	}
	return true
}

// FuzzDecodeFrame checks that DecodeFrame never panics and that a decoded
// frame writes back to the same bytes, on WebSocket and on polling.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range realPayloads {
		f.Add([]byte(s), false)
	}
	f.Add([]byte{1, 2, 3, 4}, true)
	f.Add([]byte{}, true)
	f.Add([]byte{0x1e, 'b', '4'}, true)
	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		p, err := engineio.DecodeFrame(frame, binary)
		for _, i := range []int{1, len(frame) / 2, len(frame) - 1} {
			if i > 0 && i < len(frame) {
				_, _ = engineio.DecodeFrame(frame[:i], binary)
				_, _ = engineio.DecodeFrame(frame[i:], binary)
			}
		}
		if err != nil {
			if binary {
				t.Fatalf("binary frame refused: %v", err)
			}
			return
		}
		checkPacket(t, p)
		if binary {
			if !p.Binary || p.Type != engineio.Message || !bytes.Equal(p.Data, frame) {
				t.Fatalf("binary frame decoded as %+v", p)
			}
			// Over polling the same message travels as base64 and comes back intact.
			back, err := engineio.DecodePayload(p.AppendPolling(nil))
			if err != nil || len(back) != 1 {
				t.Fatalf("polling form of binary frame: %v, %d packets", err, len(back))
			}
			requireSamePackets(t, []engineio.Packet{p}, back)
			return
		}
		if got := p.AppendPolling(nil); !bytes.Equal(got, frame) {
			t.Fatalf("text frame %q re-encoded as %q", frame, got)
		}
		if p.Type == engineio.Message {
			if got := engineio.NewMessage(p.Data, false).Wire(); !bytes.Equal(got, frame) {
				t.Fatalf("message frame %q rebuilt as %q", frame, got)
			}
		}
	})
}

func checkPacket(t *testing.T, p engineio.Packet) {
	t.Helper()
	if p.Type < engineio.Open || p.Type > engineio.Noop {
		t.Fatalf("packet type %q out of range", p.Type)
	}
	if p.Binary && p.Type != engineio.Message {
		t.Fatalf("binary packet of type %q", p.Type)
	}
}

func requireSamePackets(t *testing.T, want, got []engineio.Packet) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d packets, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Type != g.Type || w.Binary != g.Binary || !bytes.Equal(w.Data, g.Data) {
			t.Fatalf("packet %d: got %+v, want %+v", i, g, w)
		}
	}
}
