package engineio

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzFrameReader feeds arbitrary byte streams to the frame parser whole,
// byte by byte and cut at pseudo-random points: it must never panic, and
// every way of cutting must give the same messages and the same error.
// The limit is small so that the size check is reached often.
func FuzzFrameReader(f *testing.F) {
	seeds := [][]byte{
		clientFrame(true, opText, []byte("2probe")),
		cat(clientFrame(true, opText, []byte("5")), clientFrame(true, opText, []byte(`42["order:status",{"id":1}]`))),
		cat(clientFrame(false, opText, []byte("451-[\"m\",")), clientFrame(true, opPing, []byte("p")),
			clientFrame(true, opContinuation, []byte(`{"_placeholder":true,"num":0}]`)), clientFrame(true, opBinary, []byte{1, 2, 3})),
		clientFrame(true, opClose, closePayload(1001, "going away")),
		clientFrame(true, opBinary, make([]byte, 200)),
		clientFrame(true, opText, make([]byte, 70_000))[:30], // 64-bit length; kept short for minimization
		rawFrame(true, opText, []byte("3"), false),
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0},
	}
	for i, s := range seeds {
		f.Add(s, uint64(i))
	}
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		const limit = 256
		whole, wholeCode, wholeMsg := parseStream(t, limit, stream)

		one, code, msg := parseStream(t, limit, bytewise(stream)...)
		assert.Equal(t, whole, one, "byte by byte")
		assert.Equal(t, wholeCode, code, "byte by byte")
		assert.Equal(t, wholeMsg, msg, "byte by byte")

		rng := rand.New(rand.NewPCG(seed, 0))
		var chunks [][]byte
		for rest := stream; len(rest) > 0; {
			n := 1 + rng.IntN(min(len(rest), 40))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		cut, code, msg := parseStream(t, limit, chunks...)
		assert.Equal(t, whole, cut, "random cuts")
		assert.Equal(t, wholeCode, code, "random cuts")
		assert.Equal(t, wholeMsg, msg, "random cuts")

		for _, e := range whole {
			if e.Op == opText || e.Op == opBinary {
				assert.LessOrEqual(t, len(e.Data), limit)
			}
		}
	})
}
