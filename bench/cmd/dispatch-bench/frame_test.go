package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Frames as dispatchd sends them.
var realFrames = []string{
	`0{"sid":"OOkB2MA7z6vt0kjqAAG8","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
	`2`,
	`40/drivers,{"sid":"x9a"}`,
	`44/vendors,{"message":"unauthorized","data":{"code":"unauthorized"}}`,
	`42/drivers,7["pickup:available",{"eventId":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","seq":12,"order":{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c","tenant":"t0","vendorId":"v1","customerId":"c3","store":"bench-abc-41","pickup":{"address":"1 Bench Street","lat":52.37,"lng":4.89},"dropoff":{"address":"2 Load Lane","lat":52.36,"lng":4.9},"status":"ready","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","version":1}}]`,
	`42/customers,["driver:location",{"orderId":"o1","lat":52.1,"lng":4.2,"at":"2026-01-01T00:00:00Z"}]`,
	`43/vendors,3[{"ok":true,"order":{"id":"o-9","store":"bench-abc-9"}}]`,
	`43/drivers,12[{"ok":false,"error":{"code":"already_claimed","message":"taken"}}]`,
	`42["ping"]`,
	`41/drivers,`,
}

func TestParseFrame(t *testing.T) {
	f, err := parseFrame([]byte(realFrames[4]))
	require.NoError(t, err)
	assert.Equal(t, byte('4'), f.eio)
	assert.Equal(t, byte('2'), f.sio)
	assert.Equal(t, "/drivers", string(f.ns))
	assert.Equal(t, int64(7), f.ackID)
	assert.Equal(t, "pickup:available", string(f.name))
	seq, ok := fieldInt(f.args, "seq")
	assert.True(t, ok)
	assert.Equal(t, int64(12), seq)
	id, ok := fieldValue(f.args, "id")
	assert.True(t, ok)
	assert.Equal(t, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", string(id))
	assert.Equal(t, int64(41), orderIndex(f.args, "abc"))
	assert.Equal(t, int64(-1), orderIndex(f.args, "abd"))

	f, err = parseFrame([]byte(realFrames[7]))
	require.NoError(t, err)
	assert.Equal(t, byte('3'), f.sio)
	assert.Equal(t, int64(12), f.ackID)
	ok, code := ackResult(f.data)
	assert.False(t, ok)
	assert.Equal(t, "already_claimed", code)

	f, err = parseFrame([]byte(realFrames[6]))
	require.NoError(t, err)
	ok, code = ackResult(f.data)
	assert.True(t, ok)
	assert.Empty(t, code)

	f, err = parseFrame([]byte(realFrames[8]))
	require.NoError(t, err)
	assert.Empty(t, f.ns)
	assert.Equal(t, int64(noAck), f.ackID)
	assert.Equal(t, "ping", string(f.name))

	for _, bad := range []string{"", "9", "4", "49", `42/drivers,["unterminated`, `42/drivers,{"not":"array"}`} {
		_, err := parseFrame([]byte(bad))
		assert.ErrorIs(t, err, errFrame, bad)
	}
}

func TestFieldValue(t *testing.T) {
	tests := []struct {
		name, in, key, want string
		ok                  bool
	}{
		{"string", `{"a":"x","orderId":"o1"}`, "orderId", "o1", true},
		{"spaces", `{"seq" : 5 }`, "seq", "5", true},
		{"suffix of another key", `{"vendorId":"v","id":"i"}`, "id", "i", true},
		{"key as a value", `{"store":"id","id":"real"}`, "id", "real", true},
		{"escaped quote", `{"m":"a\"b"}`, "m", `a\"b`, true},
		{"missing", `{"a":1}`, "b", "", false},
		{"truncated", `{"a":"x`, "a", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fieldValue([]byte(tt.in), tt.key)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

// encode is the inverse of parseFrame's header split, for the fuzz
// property.
func encode(f frame) []byte {
	if f.eio != '4' {
		return append([]byte{f.eio}, f.data...)
	}
	ns := string(f.ns)
	return append(appendPacket(nil, f.sio, ns, f.ackID), f.data...)
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range realFrames {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseFrame(b)
		if err != nil {
			return
		}
		_, _ = fieldInt(fr.args, "seq")
		_, _ = fieldValue(fr.data, "id")
		_, _ = ackResult(fr.data)
		_ = orderIndex(fr.data, "abc")
		if fr.sio == '5' || fr.sio == '6' {
			return // the attachment count is not kept
		}
		// parse(encode(parse(x))) == parse(x)
		again, err := parseFrame(encode(fr))
		require.NoError(t, err)
		assert.Equal(t, fr.eio, again.eio)
		assert.Equal(t, fr.sio, again.sio)
		assert.Equal(t, string(fr.ns), string(again.ns))
		assert.Equal(t, fr.ackID, again.ackID)
		assert.Equal(t, string(fr.data), string(again.data))
	})
}

// serverFrame is an unmasked server frame.
func serverFrame(op byte, fin bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, byte(n))
	case n <= 0xffff:
		out = append(out, 126, byte(n>>8), byte(n))
	default:
		out = append(out, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, payload...)
}

func TestWSReader(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 5000)
	var stream []byte
	stream = append(stream, serverFrame(opText, true, []byte("2"))...)
	stream = append(stream, serverFrame(opPing, true, []byte("hi"))...)
	stream = append(stream, serverFrame(opText, false, []byte("42[\"a\","))...)
	stream = append(stream, serverFrame(opCont, true, []byte("1]"))...)
	stream = append(stream, serverFrame(opText, true, big)...)
	var pings []string
	r := wsReader{br: bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(stream)), 64), control: func(op byte, p []byte) {
		pings = append(pings, string(p))
	}}
	for _, want := range []string{"2", `42["a",1]`, string(big)} {
		_, p, err := r.next()
		require.NoError(t, err)
		assert.Equal(t, want, string(p))
	}
	assert.Equal(t, []string{"hi"}, pings)
	_, _, err := r.next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestClientFrameMasked(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	b := appendWSFrame(nil, opText, []byte("43/drivers,1[]"), key)
	assert.Equal(t, byte(0x81), b[0])
	assert.Equal(t, byte(0x80|14), b[1])
	body := append([]byte(nil), b[6:]...)
	maskBytes(body, key)
	assert.Equal(t, "43/drivers,1[]", string(body))
}

// FuzzWSReader feeds arbitrary bytes, split in two reads, to the frame
// reader: it must never panic.
func FuzzWSReader(f *testing.F) {
	f.Add(serverFrame(opText, true, []byte(realFrames[4])), 3)
	f.Add(append(serverFrame(opText, false, []byte("4")), serverFrame(opCont, true, []byte("2"))...), 1)
	f.Add(serverFrame(opPing, true, []byte("p")), 0)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		if split < 0 || split > len(b) {
			split = len(b) / 2
		}
		src := io.MultiReader(bytes.NewReader(b[:split]), bytes.NewReader(b[split:]))
		r := wsReader{br: bufio.NewReaderSize(src, 16), control: func(byte, []byte) {}}
		for range 64 {
			_, p, err := r.next()
			if err != nil {
				return
			}
			_, _ = parseFrame(p)
		}
	})
}
