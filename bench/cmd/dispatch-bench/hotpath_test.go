package main

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hotStream is what a driver socket reads under load: pings, events, acks,
// a ping control frame and a fragmented message, as the server frames them.
func hotStream() []byte {
	var s []byte
	for _, f := range realFrames {
		s = append(s, serverFrame(opText, true, []byte(f))...)
	}
	s = append(s, serverFrame(opPing, true, []byte("p"))...)
	s = append(s, serverFrame(opText, false, []byte(`42/drivers,["pickup:available",`))...)
	s = append(s, serverFrame(opCont, true, []byte(`{"seq":3,"eventId":"e"}]`))...)
	return s
}

// readHot reads every message of the stream and scans the fields the
// handlers read; it returns the number of messages.
func readHot(r *wsReader, src *bytes.Reader, stream []byte) int {
	src.Reset(stream)
	r.br.Reset(src)
	r.discard = 0
	n := 0
	for {
		_, p, err := r.next()
		if err != nil {
			return n
		}
		n++
		f, err := parseFrame(p)
		if err != nil {
			continue
		}
		_, _ = fieldInt(f.args, "seq")
		_, _ = fieldValue(f.args, "eventId")
		_ = orderIndex(f.args, "abc")
		_, _ = fieldValue(f.data, "ok")
	}
}

// hotPathAllocs is what readHot allocated when this guard was written
// (commit cfa90ad): the small header arrays wsReader.next hands to
// io.ReadFull escape, about two per frame. Nothing else may allocate.
const hotPathAllocs = 28

// TestHotPathAllocations guards the measurements: reading and parsing
// frames must not allocate more than it did, or the load generator's own
// garbage collector would start to show in the numbers it reports.
func TestHotPathAllocations(t *testing.T) {
	stream := hotStream()
	src := bytes.NewReader(stream)
	r := &wsReader{br: bufio.NewReaderSize(src, 4096), control: func(byte, []byte) {}}
	require.Equal(t, len(realFrames)+1, readHot(r, src, stream))
	allocs := testing.AllocsPerRun(100, func() { readHot(r, src, stream) })
	assert.LessOrEqual(t, allocs, float64(hotPathAllocs))
}

func BenchmarkHotPath(b *testing.B) {
	stream := hotStream()
	src := bytes.NewReader(stream)
	r := &wsReader{br: bufio.NewReaderSize(src, 4096), control: func(byte, []byte) {}}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		readHot(r, src, stream)
	}
}
