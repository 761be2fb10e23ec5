package transport

import "errors"

// Sentinel errors of the Socket.IO layer.
var (
	ErrAckTimeout     = errors.New("ack timeout")
	ErrDisconnected   = errors.New("socket disconnected")
	ErrReservedEvent  = errors.New("reserved event name")
	ErrMixedBinary    = errors.New("a *Message with attachments cannot be combined with other binary arguments")
	ErrAlreadyAcked   = errors.New("ack already sent")
	ErrInvalidRawJSON = errors.New("invalid raw JSON argument")
	// ErrTooManyPendingAcks: the socket has Config.MaxPendingAcks
	// unanswered ack requests already.
	ErrTooManyPendingAcks = errors.New("too many pending acks")
)

// ConnectError refuses a CONNECT from middleware. The client receives
// CONNECT_ERROR {"message": Message, "data": Data} (data omitted when nil).
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }
