package sioclient

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipe is a RawConn whose "server" end is the returned net.Conn.
func pipe(t *testing.T) (*RawConn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return &RawConn{nc: a, br: bufio.NewReader(a), timeout: time.Second}, b
}

func TestReadMessage(t *testing.T) {
	tests := []struct {
		name    string
		server  []Frame
		wantOp  byte
		want    string
		wantErr error
		close   *CloseError
	}{
		{name: "text", server: []Frame{{Fin: true, Op: OpText, Payload: []byte("40")}}, wantOp: OpText, want: "40"},
		{name: "fragments joined", server: []Frame{{Op: OpBinary, Payload: []byte("ab")}, {Fin: true, Op: OpContinuation, Payload: []byte("c")}},
			wantOp: OpBinary, want: "abc"},
		{name: "16-bit length", server: []Frame{{Fin: true, Op: OpText, Payload: make([]byte, 300)}}, wantOp: OpText, want: string(make([]byte, 300))},
		{name: "64-bit length", server: []Frame{{Fin: true, Op: OpText, Payload: make([]byte, 70000)}}, wantOp: OpText, want: string(make([]byte, 70000))},
		{name: "masked server frame", server: []Frame{{Fin: true, Op: OpText, Masked: true, Payload: []byte("4")}}, wantErr: ErrServerFrame},
		{name: "RSV bit", server: []Frame{{Fin: true, RSV: 4, Op: OpText, Payload: []byte("4")}}, wantErr: ErrServerFrame},
		{name: "unknown opcode", server: []Frame{{Fin: true, Op: 3}}, wantErr: ErrServerFrame},
		{name: "stray continuation", server: []Frame{{Fin: true, Op: OpContinuation}}, wantErr: ErrServerFrame},
		{name: "close", server: []Frame{{Fin: true, Op: OpClose, Payload: ClosePayload(CloseTooBig, "big")}}, close: &CloseError{Code: CloseTooBig, Text: "big"}},
		{name: "close without code", server: []Frame{{Fin: true, Op: OpClose}}, close: &CloseError{Code: CloseNoStatus}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := pipe(t)
			go func() {
				for _, f := range tt.server {
					_, _ = srv.Write(f.Encode())
				}
			}()
			// The client answers a close; the server end reads the answer.
			replies := make(chan Frame, 1)
			go func() {
				sc := &RawConn{nc: srv, br: bufio.NewReader(srv), timeout: time.Second}
				if f, err := sc.ReadFrame(); err == nil {
					replies <- f
				}
			}()
			op, data, err := c.ReadMessage()
			switch {
			case tt.close != nil:
				require.Equal(t, tt.close, err)
				reply := <-replies
				assert.True(t, reply.Masked, "a client's frames are masked")
				assert.Equal(t, OpClose, reply.Op)
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.wantOp, op)
				assert.Equal(t, tt.want, string(data))
			}
		})
	}
}

func TestSplitHeader(t *testing.T) {
	one := uint64(12)
	tests := []struct {
		give, ns, rest string
		id             *uint64
	}{
		{give: `["a"]`, ns: "/", rest: `["a"]`},
		{give: `12["a"]`, ns: "/", id: &one, rest: `["a"]`},
		{give: `/orders,12["a"]`, ns: "/orders", id: &one, rest: `["a"]`},
		{give: `/orders`, ns: "/orders"},
	}
	for _, tt := range tests {
		ns, id, rest := splitHeader([]byte(tt.give))
		assert.Equal(t, tt.ns, ns, tt.give)
		assert.Equal(t, tt.id, id, tt.give)
		assert.Equal(t, tt.rest, string(rest), tt.give)
	}
}

// A frame read back is the frame written, mask and all: the encoder is
// what frame-level tests of the server send.
func TestFrameRoundTrip(t *testing.T) {
	for _, f := range []Frame{
		{Fin: true, Op: OpText, Masked: true, Payload: []byte("hello")},
		{Op: OpBinary, RSV: 5, Payload: []byte{1, 2, 3}},
		{Fin: true, Op: OpBinary, Masked: true, Payload: make([]byte, 0x10000)},
		{Fin: true, Op: OpPing, Masked: true, Payload: []byte{}},
	} {
		c, srv := pipe(t)
		go func() { _, _ = srv.Write(f.Encode()) }()
		got, err := c.ReadFrame()
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
}
