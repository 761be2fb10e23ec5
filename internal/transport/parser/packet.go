package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Type is a Socket.IO packet type.
type Type byte

// Socket.IO v5 packet types.
const (
	Connect      Type = 0
	Disconnect   Type = 1
	Event        Type = 2
	Ack          Type = 3
	ConnectError Type = 4
	BinaryEvent  Type = 5
	BinaryAck    Type = 6
)

// MaxAttachments bounds the binary parts one packet may announce.
const MaxAttachments = 10

// Errors returned by Decode.
var (
	ErrEmpty          = errors.New("empty packet")
	ErrUnknownType    = errors.New("unknown packet type")
	ErrAttachments    = errors.New("illegal attachments")
	ErrAckID          = errors.New("invalid ack id")
	ErrInvalidPayload = errors.New("invalid payload")
)

// Packet is one Socket.IO packet. Data is the raw JSON payload (nil when
// absent) and aliases the decoded input.
type Packet struct {
	Type        Type
	Namespace   string
	ID          uint64
	HasID       bool
	Attachments int
	Data        json.RawMessage
}

// reserved event names a peer may not emit.
var reserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// IsReserved reports whether name is reserved by the protocol.
func IsReserved(name string) bool { return reserved[name] }

// Decode parses the text part of a packet.
func Decode(b []byte) (Packet, error) {
	var p Packet
	if len(b) == 0 {
		return p, ErrEmpty
	}
	if b[0] < '0' || b[0] > '6' {
		return p, fmt.Errorf("%w %q", ErrUnknownType, b[0])
	}
	p.Type = Type(b[0] - '0')
	i := 1
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		n, next, err := decodeAttachments(b, i)
		if err != nil {
			return p, err
		}
		p.Attachments, i = n, next
	}
	p.Namespace, i = decodeNamespace(b, i)
	if i < len(b) && b[i] >= '0' && b[i] <= '9' {
		id, next, err := decodeID(b, i)
		if err != nil {
			return p, err
		}
		p.ID, p.HasID, i = id, true, next
	}
	if i < len(b) {
		p.Data = json.RawMessage(b[i:])
	}
	if err := validate(&p); err != nil {
		return p, err
	}
	return p, nil
}

// decodeAttachments reads the "N-" attachment count at b[i:] and returns
// it with the index after the dash.
func decodeAttachments(b []byte, i int) (n, next int, err error) {
	j := digitsEnd(b, i)
	if j == i || j-i > 3 || j >= len(b) || b[j] != '-' {
		return 0, i, ErrAttachments
	}
	n, _ = strconv.Atoi(string(b[i:j]))
	if n > MaxAttachments {
		return 0, i, fmt.Errorf("%w: %d attachments", ErrAttachments, n)
	}
	return n, j + 1, nil
}

// decodeNamespace reads the "/name," namespace at b[i:], "/" when absent,
// and returns it with the index after the comma.
func decodeNamespace(b []byte, i int) (string, int) {
	if i >= len(b) || b[i] != '/' {
		return "/", i
	}
	j := i
	for j < len(b) && b[j] != ',' {
		j++
	}
	ns := string(b[i:j])
	if j < len(b) {
		j++ // the comma
	}
	return ns, j
}

// decodeID reads the ack id, a run of digits, at b[i:] and returns it with
// the index after it.
func decodeID(b []byte, i int) (uint64, int, error) {
	j := digitsEnd(b, i)
	// Ids are JavaScript safe integers (≤ 2^53, 16 digits): refuse
	// longer runs before parsing, so a huge id costs no copy.
	if j-i > 16 {
		return 0, i, ErrAckID
	}
	id, err := strconv.ParseUint(string(b[i:j]), 10, 64)
	if err != nil || id > 1<<53 {
		return 0, i, ErrAckID
	}
	return id, j, nil
}

// digitsEnd returns the index just past the run of ASCII digits at i.
func digitsEnd(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// validate applies the reference parser's payload rules per type.
func validate(p *Packet) error {
	if p.Data != nil && !json.Valid(p.Data) {
		return ErrInvalidPayload
	}
	if err := validateShape(p); err != nil {
		return err
	}
	if (p.Type == Connect || p.Type == Disconnect || p.Type == ConnectError) && p.HasID {
		return ErrAckID
	}
	return nil
}

// validateShape checks the payload's kind (object, array, string or none)
// against the packet type.
func validateShape(p *Packet) error {
	switch p.Type {
	case Connect:
		if p.Data != nil && firstByte(p.Data) != '{' {
			return ErrInvalidPayload
		}
	case Disconnect:
		if p.Data != nil {
			return ErrInvalidPayload
		}
	case ConnectError:
		if c := firstByte(p.Data); c != '{' && c != '"' {
			return ErrInvalidPayload
		}
	case Event, BinaryEvent:
		if firstByte(p.Data) != '[' {
			return ErrInvalidPayload
		}
		if _, err := EventName(p.Data); err != nil {
			return err
		}
	case Ack, BinaryAck:
		if !p.HasID || firstByte(p.Data) != '[' {
			return ErrInvalidPayload
		}
	}
	return nil
}

// EventName returns the first element of an EVENT payload: a string that is
// not reserved, or a number (as its JSON text). data must be valid JSON
// (Decode checks that); the scan allocates only the name.
func EventName(data json.RawMessage) (string, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return "", ErrInvalidPayload
	}
	i = skipSpace(data, i+1)
	if i >= len(data) {
		return "", ErrInvalidPayload
	}
	switch c := data[i]; {
	case c == '"':
		end := stringEnd(data, i)
		if end < 0 {
			return "", ErrInvalidPayload
		}
		raw := data[i:end]
		var name string
		if bytes.IndexByte(raw, '\\') < 0 {
			name = string(raw[1 : len(raw)-1])
		} else if err := json.Unmarshal(raw, &name); err != nil {
			return "", ErrInvalidPayload
		}
		if reserved[name] {
			return "", fmt.Errorf("%w: reserved event name %q", ErrInvalidPayload, name)
		}
		return name, nil
	case c == '-' || (c >= '0' && c <= '9'):
		j := i
		for j < len(data) && strings.IndexByte("+-.eE0123456789", data[j]) >= 0 {
			j++
		}
		return string(data[i:j]), nil
	default:
		return "", ErrInvalidPayload
	}
}

// stringEnd returns the index just past the JSON string starting at i.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// AppendHeader appends everything before the JSON payload: type,
// attachment count, namespace and ack id.
func (p *Packet) AppendHeader(dst []byte) []byte {
	dst = append(dst, byte('0'+p.Type))
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return dst
}

// Append appends the whole text packet to dst.
func (p *Packet) Append(dst []byte) []byte {
	return append(p.AppendHeader(dst), p.Data...)
}
