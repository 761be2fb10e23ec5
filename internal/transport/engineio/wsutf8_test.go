package engineio

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validPieces feeds b to a fresh utf8Stream cut at cut and reports
// whether it is UTF-8 as a whole.
func validPieces(b []byte, cut int) bool {
	var s utf8Stream
	return s.feed(b[:cut]) && s.feed(b[cut:]) && s.complete()
}

// utf8Stream agrees with the standard library on every sequence of up to
// three bytes, on random longer ones, and wherever the input is cut.
func TestUTF8StreamAgreesWithStdlib(t *testing.T) {
	check := func(b []byte) {
		want := utf8.Valid(b)
		for cut := 0; cut <= len(b); cut++ {
			if validPieces(b, cut) != want {
				require.Failf(t, "utf8Stream disagrees", "% x cut at %d: want %v", b, cut, want)
			}
		}
	}
	for a := range 256 {
		check([]byte{byte(a)})
		for b := range 256 {
			check([]byte{byte(a), byte(b)})
		}
	}
	for a := 0xc0; a < 0x100; a++ { // three-byte sequences with a lead byte
		for b := range 256 {
			for c := 0x70; c < 0xd0; c++ {
				check([]byte{byte(a), byte(b), byte(c)})
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff}
	for range 100_000 {
		b := make([]byte, 1+rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		check(b)
	}
}

// A text message fails at the first byte that cannot be UTF-8, before the
// frame or the message is complete (Autobahn 6.4: fail fast).
func TestWSParserFailsFastOnInvalidUTF8(t *testing.T) {
	valid := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5") // κόσμε
	tests := []struct {
		name     string
		give     []byte // the stream up to and including the first bad byte
		rest     []byte // what would follow; never needed to fail
		want     []wsEvent
		wantCode int
	}{
		{name: "in one frame", give: announce(opText, true, len(valid)+10, append(append([]byte{}, valid...), 0xf4, 0x90)), wantCode: sioclient.CloseInvalidData},
		{name: "in a later fragment", give: cat(clientFrame(false, opText, valid), clientFrame(false, opContinuation, []byte{0xf4, 0x90, 0x80, 0x80})),
			rest: clientFrame(true, opContinuation, []byte("edited")), wantCode: sioclient.CloseInvalidData},
		{name: "surrogate", give: clientFrame(true, opText, []byte("4\xed\xa0\x80")), wantCode: sioclient.CloseInvalidData},
		{name: "overlong", give: clientFrame(true, opText, []byte("4\xc0\xaf")), wantCode: sioclient.CloseInvalidData},
		{name: "truncated at the message's end", give: cat(clientFrame(false, opText, []byte("4\xe2\x82")), clientFrame(true, opContinuation, nil)),
			wantCode: sioclient.CloseInvalidData},
		{name: "split character across fragments is fine", give: cat(clientFrame(false, opText, []byte("4\xe2")), clientFrame(false, opContinuation, []byte("\x82")),
			clientFrame(true, opContinuation, []byte("\xac"))), want: []wsEvent{{opText, "4€"}}},
		{name: "binary is not checked", give: clientFrame(true, opBinary, []byte{0xff, 0xfe}), want: []wsEvent{{opBinary, "\xff\xfe"}}},
		{name: "earlier messages are delivered", give: cat(clientFrame(true, opText, valid), clientFrame(true, opText, []byte{0xff})),
			want: []wsEvent{{opText, string(valid)}}, wantCode: sioclient.CloseInvalidData},
		{name: "close reason", give: clientFrame(true, opClose, append(closePayload(1000, ""), 0xff)), wantCode: sioclient.CloseInvalidData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunks := range [][][]byte{{tt.give}, bytewise(tt.give)} {
				events, code, _ := parseStream(t, 1<<20, chunks...)
				assert.Equal(t, tt.want, events)
				assert.Equal(t, tt.wantCode, code)
			}
		})
	}
}
