package engineio

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteFramesIsReadByAClient: every payload length class, text and
// binary, more frames than one writev takes, and a control frame come out
// of one connection as the frames a client parses, in order.
func TestWriteFramesIsReadByAClient(t *testing.T) {
	server, client := net.Pipe()
	w := wsWriter{nc: server}
	var frames []*Frame
	var want []wsEvent
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 70000} {
		data := bytes.Repeat([]byte{'x'}, n)
		frames = append(frames, NewMessage(data, false), NewSharedMessage(data, true))
		want = append(want, wsEvent{opText, "4" + string(data)}, wsEvent{opBinary, string(data)})
	}
	for i := range 2 * writeBatch {
		data := []byte{byte('a' + i%26)}
		frames = append(frames, NewMessage(data, false))
		want = append(want, wsEvent{opText, "4" + string(data)})
	}
	want = append(want, wsEvent{opPong, "hi"})

	errs := make(chan error, 1)
	go func() {
		err := w.writeFrames(frames, time.Now().Add(10*time.Second))
		if err == nil {
			err = w.writeControl(opPong, []byte("hi"), time.Now().Add(10*time.Second))
		}
		errs <- err
	}()
	// Server frames are unmasked; parse them with a parser that does not
	// insist on masks by re-masking them as a client would have sent.
	var got []wsEvent
	r := &frameReader{c: client}
	for len(got) < len(want) {
		op, payload, err := r.next()
		require.NoError(t, err)
		got = append(got, wsEvent{op, string(payload)})
	}
	require.NoError(t, <-errs)
	require.Equal(t, len(want), len(got))
	for i := range want {
		assert.Equal(t, want[i].Op, got[i].Op, "frame %d", i)
		assert.Equal(t, len(want[i].Data), len(got[i].Data), "frame %d", i)
		assert.Equal(t, want[i].Data, got[i].Data, "frame %d", i)
	}
}

// frameReader reads unmasked server frames (a test client's view).
type frameReader struct {
	c   net.Conn
	buf []byte
}

func (r *frameReader) fill(n int) error {
	for len(r.buf) < n {
		b := make([]byte, 64<<10)
		k, err := r.c.Read(b)
		if err != nil {
			return err
		}
		r.buf = append(r.buf, b[:k]...)
	}
	return nil
}

func (r *frameReader) next() (byte, []byte, error) {
	if err := r.fill(2); err != nil {
		return 0, nil, err
	}
	if r.buf[0]&0x80 == 0 || r.buf[1]&0x80 != 0 {
		return 0, nil, net.ErrClosed // not final, or masked: not a server frame of ours
	}
	op := r.buf[0] & 0x0F
	n, hl := int(r.buf[1]&0x7F), 2
	switch n {
	case 126:
		if err := r.fill(4); err != nil {
			return 0, nil, err
		}
		n, hl = int(r.buf[2])<<8|int(r.buf[3]), 4
	case 127:
		if err := r.fill(10); err != nil {
			return 0, nil, err
		}
		n = 0
		for _, b := range r.buf[2:10] {
			n = n<<8 | int(b)
		}
		hl = 10
	}
	if err := r.fill(hl + n); err != nil {
		return 0, nil, err
	}
	payload := append([]byte(nil), r.buf[hl:hl+n]...)
	r.buf = r.buf[hl+n:]
	return op, payload, nil
}
