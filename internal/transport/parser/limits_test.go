package parser_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHugeInputsRejectedCheaply feeds 1 MB packets (the default max
// payload) that must be refused. Refusing one may cost at most one copy of
// the input: a peer must not be able to make the server allocate many times
// what it sent just to be told no.
func TestHugeInputsRejectedCheaply(t *testing.T) {
	const size = 1 << 20
	// One copy of the input, plus the page rounding of a large allocation.
	const slack = 16 << 10
	tests := []struct {
		name    string
		give    string
		wantErr error
	}{
		{name: "attachment count of a million digits", give: "5" + strings.Repeat("9", size) + `-["a"]`, wantErr: parser.ErrAttachments},
		{name: "attachment count just over the limit", give: `511-["a"` + strings.Repeat(",0", size/2) + "]", wantErr: parser.ErrAttachments},
		{name: "nesting past the JSON depth limit", give: `2["a",` + strings.Repeat("[", size/2) + strings.Repeat("]", size/2) + "]", wantErr: parser.ErrInvalidPayload},
		{name: "unterminated array of a million items", give: `2["a"` + strings.Repeat(",0", size/2), wantErr: parser.ErrInvalidPayload},
		{name: "namespace without end", give: "2/" + strings.Repeat("a", size), wantErr: parser.ErrInvalidPayload},
		{name: "ack id of a million digits", give: "2" + strings.Repeat("9", size) + `["a"]`, wantErr: parser.ErrAckID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.give)
			var err error
			n := allocated(func() { _, err = parser.Decode(b) })
			require.ErrorIs(t, err, tt.wantErr)
			assert.LessOrEqual(t, n, uint64(len(b))+slack, "bytes allocated to refuse a %d-byte packet", len(b))

			var d parser.Decoder
			n = allocated(func() { _, _, _, err = d.Add(b, false) })
			require.ErrorIs(t, err, tt.wantErr)
			assert.LessOrEqual(t, n, uint64(len(b))+slack, "bytes the decoder allocated to refuse a %d-byte packet", len(b))
		})
	}
}

// TestAcceptedPacketsBoundedMemory: valid 1 MB packets may cost what
// their result needs (a slice header per argument), not repeated growth or
// a decoded tree.
func TestAcceptedPacketsBoundedMemory(t *testing.T) {
	const size = 1 << 20
	manyArgs := []byte(`2["a"` + strings.Repeat(",0", size/2) + "]")
	n := allocated(func() {
		p, err := parser.Decode(manyArgs)
		require.NoError(t, err)
		args, err := parser.SplitArray(p.Data)
		require.NoError(t, err)
		require.Len(t, args, size/2+1)
	})
	// 24 bytes of slice header per 2-byte argument, allocated once.
	assert.LessOrEqual(t, n, uint64(13*len(manyArgs)), "bytes allocated to split %d arguments", size/2)

	manyObjects := []byte(`["a"` + strings.Repeat(",{}", size/3) + "]")
	n = allocated(func() { require.NoError(t, parser.CheckPlaceholders(manyObjects, 1)) })
	assert.LessOrEqual(t, n, uint64(2*len(manyObjects)), "bytes allocated to check %d objects", size/3)
}

// TestDecoderBoundsAttachments checks that the decoder never collects more
// binary parts than MaxAttachments, whatever the packet announces.
func TestDecoderBoundsAttachments(t *testing.T) {
	var d parser.Decoder
	_, _, _, err := d.Add([]byte(`511-["a"]`), false)
	require.ErrorIs(t, err, parser.ErrAttachments)
	_, _, _, err = d.Add([]byte{1}, true)
	require.ErrorIs(t, err, parser.ErrUnexpectedBinary, "a refused packet leaves nothing pending")

	placeholders := make([]string, parser.MaxAttachments)
	for i := range placeholders {
		placeholders[i] = `{"_placeholder":true,"num":` + string(rune('0'+i%10)) + `}`
	}
	_, _, done, err := d.Add([]byte(`510-["a",`+strings.Join(placeholders, ",")+`]`), false)
	require.NoError(t, err)
	require.False(t, done)
	for i := range parser.MaxAttachments {
		p, atts, done, err := d.Add([]byte{byte(i)}, true)
		require.NoError(t, err)
		if i < parser.MaxAttachments-1 {
			require.False(t, done)
			continue
		}
		require.True(t, done)
		assert.Len(t, atts, parser.MaxAttachments)
		assert.Equal(t, parser.MaxAttachments, p.Attachments)
	}
	_, _, _, err = d.Add([]byte{0xff}, true)
	require.ErrorIs(t, err, parser.ErrUnexpectedBinary, "no part is accepted past the announced count")
}

func TestDecoderCVEPlaceholders(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		parts   int
		wantErr error
	}{
		{name: "num names a method (CVE-2022-2421)", text: `51-["hello",{"_placeholder":true,"num":"splice"}]`, parts: 1, wantErr: parser.ErrAttachments},
		{name: "num is __proto__", text: `51-["a",{"_placeholder":true,"num":"__proto__"}]`, parts: 1, wantErr: parser.ErrAttachments},
		{name: "num is a numeric string (CVE-2023-32695)", text: `52-["a",{"_placeholder":true,"num":"1"}]`, parts: 2, wantErr: parser.ErrAttachments},
		{name: "num past the attachments", text: `51-["a",{"_placeholder":true,"num":1}]`, parts: 1, wantErr: parser.ErrAttachments},
		{name: "num negative", text: `51-["a",{"_placeholder":true,"num":-1}]`, parts: 1, wantErr: parser.ErrAttachments},
		{name: "num fractional", text: `51-["a",{"_placeholder":true,"num":1.5}]`, parts: 1, wantErr: parser.ErrAttachments},
		{name: "num overflows float64", text: `51-["a",{"_placeholder":true,"num":1e309}]`, parts: 1, wantErr: parser.ErrAttachments},
		{name: "placeholder as num", text: `51-["a",{"_placeholder":true,"num":{"_placeholder":true,"num":0}}]`, parts: 1, wantErr: parser.ErrAttachments},
		{name: "placeholder with zero attachments", text: `50-["a",{"_placeholder":true,"num":0}]`, wantErr: parser.ErrAttachments},
		{name: "nested valid placeholders", text: `52-["a",{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`, parts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d parser.Decoder
			_, _, done, err := d.Add([]byte(tt.text), false)
			for i := 0; i < tt.parts && err == nil; i++ {
				require.False(t, done)
				_, _, done, err = d.Add([]byte{byte(i)}, true)
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.wantErr == nil, done)
			// After any outcome the decoder accepts a fresh packet.
			_, _, done, err = d.Add([]byte(`2["next"]`), false)
			require.NoError(t, err)
			assert.True(t, done)
		})
	}
}
