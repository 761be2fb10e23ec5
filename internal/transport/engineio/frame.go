package engineio

// Frame is one outbound Engine.IO packet in wire form. A Frame is immutable
// once built, so one Frame may sit in many sessions' queues at once (a room
// broadcast encodes once and shares the bytes).
type Frame struct {
	// wire is the text packet with its type digit ("4…", "2") or, for a
	// binary message, the raw bytes.
	wire   []byte
	binary bool
	shared bool // written to many sessions (kept for callers; the bytes are shared either way)
}

// Frames that carry no data are shared by every session.
var (
	pingFrame  = &Frame{wire: []byte{byte(Ping)}}
	noopFrame  = &Frame{wire: []byte{byte(Noop)}}
	closeFrame = &Frame{wire: []byte{byte(Close)}}
	probeFrame = &Frame{wire: []byte("3probe")}
)

// NewMessage builds a message frame for one session. data is not copied and
// must not change afterwards.
func NewMessage(data []byte, binary bool) *Frame {
	return newMessage(data, binary, false)
}

// NewSharedMessage builds a message frame that will be written to many
// sessions: every session writes the same bytes (with its own few header
// bytes in front), none copies them.
func NewSharedMessage(data []byte, binary bool) *Frame {
	return newMessage(data, binary, true)
}

func newMessage(data []byte, binary, shared bool) *Frame {
	if binary {
		return &Frame{wire: data, binary: true, shared: shared}
	}
	wire := make([]byte, 0, len(data)+1)
	wire = append(wire, byte(Message))
	wire = append(wire, data...)
	return &Frame{wire: wire, shared: shared}
}

// NewTextMessage builds a text message frame from bytes that already start
// with the '4' type digit, avoiding a copy on hot paths.
func NewTextMessage(wire []byte, shared bool) *Frame {
	return &Frame{wire: wire, shared: shared}
}

// Binary reports whether f is a binary message.
func (f *Frame) Binary() bool { return f.binary }

// Wire returns the frame's WebSocket payload; callers must not modify it.
func (f *Frame) Wire() []byte { return f.wire }

func (f *Frame) appendPolling(dst []byte) []byte {
	if f.binary {
		return Packet{Type: Message, Data: f.wire, Binary: true}.AppendPolling(dst)
	}
	return append(dst, f.wire...)
}

// opcode is the WebSocket opcode of the frame's message.
func (f *Frame) opcode() byte {
	if f.binary {
		return opBinary
	}
	return opText
}
