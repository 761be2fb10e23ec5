package engineio

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Writes bypass gorilla too: every frame a socket sends goes through
// wsWriter, which frames them itself (server frames are never masked) and
// hands a whole batch to the kernel in one writev. A socket with a backlog
// then costs one syscall per batch instead of one per frame, and shared
// broadcast bytes are written from where they lie, not copied.
type wsWriter struct {
	mu sync.Mutex // one writer at a time: the write loop, and the reader's pongs and closes
	nc net.Conn
}

// maxFrameHeader is the longest server frame header: 2 bytes and a 64-bit
// length.
const maxFrameHeader = 10

// appendFrameHeader appends a final, unmasked frame header for op and n
// payload bytes (RFC 6455 §5.2).
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

// writeBatch bounds the frames of one writev (the kernel takes at most
// 1024 iovecs; two per frame).
const writeBatch = 256

// headerPool recycles a batch's headers; ioPool its iovec list.
var (
	headerPool = sync.Pool{New: func() any { b := make([]byte, 0, writeBatch*maxFrameHeader); return &b }}
	ioPool     = sync.Pool{New: func() any { v := make(net.Buffers, 0, 2*writeBatch); return &v }}
)

// writeFrames writes frames in order, writeBatch at a time, each batch in
// one writev, before deadline.
func (w *wsWriter) writeFrames(frames []*Frame, deadline time.Time) error {
	hp := headerPool.Get().(*[]byte)
	vp := ioPool.Get().(*net.Buffers)
	defer func() {
		*hp = (*hp)[:0]
		clear(*vp)
		*vp = (*vp)[:0]
		headerPool.Put(hp)
		ioPool.Put(vp)
	}()
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.nc.SetWriteDeadline(deadline)
	for len(frames) > 0 {
		batch := frames[:min(len(frames), writeBatch)]
		frames = frames[len(batch):]
		headers := (*hp)[:0]
		for _, f := range batch {
			headers = appendFrameHeader(headers, f.opcode(), len(f.wire))
		}
		iov := (*vp)[:0]
		at := 0
		for _, f := range batch {
			end := at + frameHeaderLen(len(f.wire))
			iov = append(iov, headers[at:end])
			if len(f.wire) > 0 {
				iov = append(iov, f.wire)
			}
			at = end
		}
		// WriteTo consumes the slice it is given: hand it a copy of the
		// header so the pooled one keeps its capacity.
		bufs := iov
		if _, err := bufs.WriteTo(w.nc); err != nil {
			return err
		}
		*hp = headers
		*vp = iov
	}
	return nil
}

// frameHeaderLen is the length of the header appendFrameHeader writes.
func frameHeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// writeControl writes one control frame (ping, pong, close) before
// deadline; payload must be at most maxControlPayload bytes.
func (w *wsWriter) writeControl(op byte, payload []byte, deadline time.Time) error {
	var buf [2 + maxControlPayload]byte
	b := appendFrameHeader(buf[:0], op, len(payload))
	b = append(b, payload...)
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.nc.SetWriteDeadline(deadline)
	_, err := w.nc.Write(b)
	return err
}

// closePayload is a close frame's payload: the status code, big-endian,
// and an optional reason.
func closePayload(code int, reason string) []byte {
	if reservedCloseCode(code) {
		// 1005, 1006 and 1015 only report what happened locally; on the
		// wire they are forbidden (RFC 6455 §7.4.1), so the frame goes
		// without a status, which the peer reads as 1005.
		return nil
	}
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return append(b, reason...)
}

// reservedCloseCode reports the codes an endpoint must never send.
func reservedCloseCode(code int) bool {
	switch code {
	case websocket.CloseNoStatusReceived, websocket.CloseAbnormalClosure, websocket.CloseTLSHandshake:
		return true
	}
	return false
}
