package engineio_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// allocatedBytes returns the heap bytes f allocates, the least of a few
// runs so that a stray allocation elsewhere does not count.
func allocatedBytes(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestDecodePayloadAllocatesNothingForSeparators: a 1 MB body of record
// separators is refused at its first (empty) record, before anything is
// allocated per record. Counting the records first and making room for
// them all cost ~42 MB.
func TestDecodePayloadAllocatesNothingForSeparators(t *testing.T) {
	body := bytes.Repeat([]byte{0x1e}, 1_000_000)
	var err error
	n := allocatedBytes(func() { _, err = engineio.DecodePayload(body) })
	require.ErrorIs(t, err, engineio.ErrEmptyPacket)
	assert.LessOrEqual(t, n, uint64(1024), "bytes allocated decoding 1 MB of separators")
}

// TestPayloadIsLazy: the server decodes a body one record at a time, so a
// body of many tiny packets costs nothing per packet.
func TestPayloadIsLazy(t *testing.T) {
	body := bytes.Repeat([]byte("6\x1e"), 500_000)
	body = append(body, '6')
	count := 0
	n := allocatedBytes(func() {
		count = 0
		for p, err := range engineio.Payload(body) {
			if err != nil || p.Type != engineio.Noop {
				t.Fatalf("record %d: %+v, %v", count, p, err)
			}
			count++
		}
	})
	assert.Equal(t, 500_001, count)
	assert.LessOrEqual(t, n, uint64(1024), "bytes allocated decoding 500,001 packets")
}

// TestPayloadStopsAtFirstBadRecord: the packets before a bad record come
// out, then its error, then nothing: what follows is never decoded.
func TestPayloadStopsAtFirstBadRecord(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    []string // the packets' polling forms, in order
		wantErr error
	}{
		{name: "all good", give: "4a\x1e3\x1ebAQID", want: []string{"4a", "3", "bAQID"}},
		{name: "empty body", give: "", wantErr: engineio.ErrEmptyPacket},
		{name: "only separators", give: "\x1e\x1e\x1e", wantErr: engineio.ErrEmptyPacket},
		{name: "empty record in the middle", give: "4a\x1e\x1e4b\x1e9", want: []string{"4a"}, wantErr: engineio.ErrEmptyPacket},
		{name: "trailing separator", give: "4a\x1e4b\x1e", want: []string{"4a", "4b"}, wantErr: engineio.ErrEmptyPacket},
		{name: "bad type then good", give: "4a\x1e9\x1e4b", want: []string{"4a"}, wantErr: engineio.ErrUnknownType},
		{name: "bad base64 then good", give: "b!!\x1e4b", wantErr: engineio.ErrBadBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var errs []error
			for p, err := range engineio.Payload([]byte(tt.give)) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				require.Empty(t, errs, "packet after an error")
				got = append(got, string(p.AppendPolling(nil)))
			}
			assert.Equal(t, tt.want, got)
			if tt.wantErr == nil {
				assert.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], tt.wantErr)
		})
	}
}

// TestPayloadStopsWhenTheCallerDoes: breaking out of the loop ends the
// iteration (the session ended on a packet; the rest is never decoded).
func TestPayloadStopsWhenTheCallerDoes(t *testing.T) {
	n := 0
	for range engineio.Payload([]byte("1\x1e4a\x1e4b")) {
		n++
		break
	}
	assert.Equal(t, 1, n)
}
