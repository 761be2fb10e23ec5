package engineio

import "errors"

// Sentinel errors of the Engine.IO layer.
var (
	ErrEmptyPacket   = errors.New("empty packet")
	ErrUnknownType   = errors.New("unknown packet type")
	ErrBadBase64     = errors.New("invalid base64 binary packet")
	ErrConnClosed    = errors.New("connection closed")
	ErrSlowConsumer  = errors.New("send queue full")
	ErrPayloadTooBig = errors.New("payload too large")
)
