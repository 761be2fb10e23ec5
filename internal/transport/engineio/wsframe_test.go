package engineio

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientFrame encodes one frame as a client sends it: masked, FIN as given.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	return rawFrame(fin, op, payload, true)
}

// rawFrame encodes one frame with sioclient's raw mode, masked or not.
func rawFrame(fin bool, op byte, payload []byte, masked bool) []byte {
	return sioclient.Frame{Fin: fin, Op: op, Masked: masked, Payload: payload}.Encode()
}

type wsEvent struct {
	Op   byte
	Data string
}

// parseStream feeds chunks in order the way the reader does: it stops
// after a close frame or an error. It returns the events and the close
// code of the error (0 for none).
func parseStream(t testing.TB, max int, chunks ...[]byte) ([]wsEvent, int, string) {
	t.Helper()
	p := wsParser{max: max}
	var events []wsEvent
	closed := false
	emit := func(op byte, data []byte) bool {
		events = append(events, wsEvent{op, string(data)})
		closed = op == opClose
		return !closed
	}
	fed := 0
	for _, c := range chunks {
		err := p.feed(c, emit)
		fed += len(c)
		// Memory follows the bytes received, whatever headers announce.
		require.LessOrEqual(t, parserRetained(&p), 2*fed+64, "parser buffers after %d bytes", fed)
		if err != nil {
			var fe *frameError
			require.ErrorAs(t, err, &fe)
			return events, fe.code, fe.msg
		}
		if closed {
			break
		}
	}
	return events, 0, ""
}

// bytewise splits b into one-byte chunks.
func bytewise(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

func TestWSParser(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70_000)
	tooBigHeader := []byte{0x81, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0} // 2^32 bytes, no payload sent
	tests := []struct {
		name     string
		max      int
		give     []byte
		want     []wsEvent
		wantCode int
	}{
		{name: "text", give: clientFrame(true, opText, []byte("4hello")), want: []wsEvent{{opText, "4hello"}}},
		{name: "binary", give: clientFrame(true, opBinary, []byte{1, 2, 3}), want: []wsEvent{{opBinary, "\x01\x02\x03"}}},
		{name: "empty text", give: clientFrame(true, opText, nil), want: []wsEvent{{opText, ""}}},
		{name: "16-bit length", give: clientFrame(true, opText, []byte(long)), want: []wsEvent{{opText, long}}},
		{name: "64-bit length", give: clientFrame(true, opBinary, []byte(huge)), want: []wsEvent{{opBinary, huge}}},
		{name: "several frames", give: cat(clientFrame(true, opText, []byte("4a")), clientFrame(true, opText, []byte("4b"))),
			want: []wsEvent{{opText, "4a"}, {opText, "4b"}}},
		{name: "fragmented", give: cat(
			clientFrame(false, opText, []byte("4he")),
			clientFrame(false, opContinuation, []byte("ll")),
			clientFrame(true, opContinuation, []byte("o"))),
			want: []wsEvent{{opText, "4hello"}}},
		{name: "fragmented with empty fragments", give: cat(
			clientFrame(false, opBinary, nil),
			clientFrame(true, opContinuation, nil)),
			want: []wsEvent{{opBinary, ""}}},
		{name: "control frame inside a fragmented message", give: cat(
			clientFrame(false, opText, []byte("4a")),
			clientFrame(true, opPing, []byte("p")),
			clientFrame(true, opContinuation, []byte("b"))),
			want: []wsEvent{{opPing, "p"}, {opText, "4ab"}}},
		{name: "ping and pong", give: cat(clientFrame(true, opPing, []byte("abc")), clientFrame(true, opPong, nil)),
			want: []wsEvent{{opPing, "abc"}, {opPong, ""}}},
		{name: "close with code, nothing read after it", give: cat(
			clientFrame(true, opClose, closePayload(1000, "bye")),
			clientFrame(true, opText, []byte("4late"))),
			want: []wsEvent{{opClose, "\x03\xe8bye"}}},
		{name: "empty close", give: clientFrame(true, opClose, nil), want: []wsEvent{{opClose, ""}}},
		{name: "close code 4000", give: clientFrame(true, opClose, closePayload(4000, "")), want: []wsEvent{{opClose, "\x0f\xa0"}}},

		{name: "unmasked", give: rawFrame(true, opText, []byte("4x"), false), wantCode: sioclient.CloseProtocol},
		{name: "RSV1", give: append([]byte{0xc1}, clientFrame(true, opText, []byte("4x"))[1:]...), wantCode: sioclient.CloseProtocol},
		{name: "RSV2", give: append([]byte{0xa1}, clientFrame(true, opText, []byte("4x"))[1:]...), wantCode: sioclient.CloseProtocol},
		{name: "RSV3", give: append([]byte{0x91}, clientFrame(true, opText, []byte("4x"))[1:]...), wantCode: sioclient.CloseProtocol},
		{name: "opcode 3", give: clientFrame(true, 3, []byte("x")), wantCode: sioclient.CloseProtocol},
		{name: "opcode 0xB", give: clientFrame(true, 0xB, nil), wantCode: sioclient.CloseProtocol},
		{name: "ping over 125 bytes", give: clientFrame(true, opPing, bytes.Repeat([]byte{'p'}, 126)), wantCode: sioclient.CloseProtocol},
		{name: "fragmented ping", give: clientFrame(false, opPing, nil), wantCode: sioclient.CloseProtocol},
		{name: "continuation without a message", give: clientFrame(true, opContinuation, []byte("x")), wantCode: sioclient.CloseProtocol},
		{name: "text inside a fragmented message", give: cat(
			clientFrame(false, opText, []byte("4a")),
			clientFrame(true, opText, []byte("4b"))),
			wantCode: sioclient.CloseProtocol},
		{name: "close with 1-byte payload", give: clientFrame(true, opClose, []byte{3}), wantCode: sioclient.CloseProtocol},
		{name: "close code 1005", give: clientFrame(true, opClose, []byte{0x03, 0xed}), wantCode: sioclient.CloseProtocol},
		{name: "close code 999", give: clientFrame(true, opClose, closePayload(999, "")), wantCode: sioclient.CloseProtocol},
		{name: "close text not UTF-8", give: clientFrame(true, opClose, append(closePayload(1000, ""), 0xff)), wantCode: sioclient.CloseInvalidData},
		{name: "64-bit length with high bit", give: []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, wantCode: sioclient.CloseProtocol},
		{name: "messages before an error are delivered", give: cat(
			clientFrame(true, opText, []byte("4ok")),
			rawFrame(true, opText, []byte("4x"), false)),
			want: []wsEvent{{opText, "4ok"}}, wantCode: sioclient.CloseProtocol},

		{name: "at the limit", max: 10, give: clientFrame(true, opText, []byte("4123456789")), want: []wsEvent{{opText, "4123456789"}}},
		{name: "over the limit", max: 10, give: clientFrame(true, opText, []byte("41234567890")), wantCode: sioclient.CloseTooBig},
		{name: "fragments at the limit", max: 10, give: cat(
			clientFrame(false, opText, []byte("41234")),
			clientFrame(true, opContinuation, []byte("56789"))),
			want: []wsEvent{{opText, "4123456789"}}},
		{name: "fragments over the limit", max: 10, give: cat(
			clientFrame(false, opText, []byte("412345")),
			clientFrame(true, opContinuation, []byte("67890"))),
			wantCode: sioclient.CloseTooBig},
		{name: "control frames are not limited", max: 10, give: clientFrame(true, opPing, bytes.Repeat([]byte{'p'}, 20)),
			want: []wsEvent{{opPing, strings.Repeat("p", 20)}}},
		{name: "too big as soon as the header says so", max: 1000, give: tooBigHeader, wantCode: sioclient.CloseTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = 1 << 20
			}
			events, code, _ := parseStream(t, max, tt.give)
			assert.Equal(t, tt.want, events)
			assert.Equal(t, tt.wantCode, code)

			events, code, _ = parseStream(t, max, bytewise(tt.give)...)
			assert.Equal(t, tt.want, events, "fed byte by byte")
			assert.Equal(t, tt.wantCode, code, "fed byte by byte")
		})
	}
}

func TestWSParserKeepsOnlyPartialBytes(t *testing.T) {
	p := wsParser{max: 1 << 20}
	var got []string
	emit := func(_ byte, d []byte) bool { got = append(got, string(d)); return true }
	frame := clientFrame(true, opText, []byte("4"+strings.Repeat("z", 5000)))
	first := clientFrame(true, opText, []byte("4first"))
	two := cat(first, frame)

	require.NoError(t, p.feed(two[:len(first)+3], emit))
	assert.Equal(t, []string{"4first"}, got)
	assert.False(t, p.atBoundary(), "a header partly read")
	assert.Nil(t, p.msg, "no payload yet")
	require.NoError(t, p.feed(two[len(first)+3:100], emit))
	assert.Len(t, p.msg, 100-len(first)-8, "the payload so far, unmasked")
	assert.Less(t, cap(p.msg), len(frame), "grown with the bytes, not sized by the header")
	require.NoError(t, p.feed(two[100:], emit))
	require.Len(t, got, 2)
	assert.Equal(t, "4"+strings.Repeat("z", 5000), got[1])
	assert.Nil(t, p.msg, "no buffer kept at a frame boundary")
	assert.True(t, p.atBoundary())

	// An open fragmented message is at a frame boundary: the poller may
	// watch the socket until the next fragment.
	require.NoError(t, p.feed(clientFrame(false, opText, []byte("4a")), emit))
	assert.True(t, p.atBoundary())
}

func TestWSParserDoesNotModifyInput(t *testing.T) {
	give := clientFrame(true, opText, []byte("4hello"))
	orig := bytes.Clone(give)
	events, code, _ := parseStream(t, 100, give)
	require.Zero(t, code)
	require.Len(t, events, 1)
	assert.Equal(t, orig, give)
}
