package engineio

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"iter"
)

// PacketType is the one-digit Engine.IO packet type, kept as its ASCII byte.
type PacketType byte

// Engine.IO v4 packet types.
const (
	Open    PacketType = '0'
	Close   PacketType = '1'
	Ping    PacketType = '2'
	Pong    PacketType = '3'
	Message PacketType = '4'
	Upgrade PacketType = '5'
	Noop    PacketType = '6'
)

// recordSeparator joins packets in a long-polling body.
const recordSeparator = 0x1e

// Packet is one decoded Engine.IO packet. Data aliases the input buffer.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool // a binary message (only with Type == Message)
}

// DecodeFrame decodes one WebSocket frame: a binary frame is always a binary
// message; a text frame starts with the type digit.
func DecodeFrame(b []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: Message, Data: b, Binary: true}, nil
	}
	return decodeText(b)
}

func decodeText(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	t := PacketType(b[0])
	if t < Open || t > Noop {
		return Packet{}, fmt.Errorf("%w %q", ErrUnknownType, b[0])
	}
	return Packet{Type: t, Data: b[1:]}, nil
}

// Payload decodes a long-polling body lazily, one record at a time, so
// that decoding costs nothing per record beyond the packet handed out (a
// binary record's decoded bytes). It stops at the first bad record (an
// empty one is bad: an empty body, a leading, doubled or trailing
// separator), yielding its error. Binary messages arrive as 'b' followed
// by standard base64; text packets alias body.
func Payload(body []byte) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		for {
			rec, rest, more := bytes.Cut(body, []byte{recordSeparator})
			p, err := decodeRecord(rec)
			if !yield(p, err) || err != nil || !more {
				return
			}
			body = rest
		}
	}
}

func decodeRecord(rec []byte) (Packet, error) {
	if len(rec) == 0 || rec[0] != 'b' {
		return decodeText(rec)
	}
	data := make([]byte, base64.StdEncoding.DecodedLen(len(rec)-1))
	m, err := base64.StdEncoding.Decode(data, rec[1:])
	if err != nil {
		return Packet{}, fmt.Errorf("%w: %w", ErrBadBase64, err)
	}
	return Packet{Type: Message, Data: data[:m], Binary: true}, nil
}

// DecodePayload decodes a whole long-polling body into packets, or
// returns the first bad record's error and no packets. It holds every
// packet at once, about 40 bytes each however short the record: the server
// reads bodies with Payload instead.
func DecodePayload(body []byte) ([]Packet, error) {
	var pkts []Packet
	for p, err := range Payload(body) {
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// AppendPolling appends p in its long-polling form (no separator).
func (p Packet) AppendPolling(dst []byte) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, byte(p.Type))
	return append(dst, p.Data...)
}

// EncodePayload joins packets into one long-polling body.
func EncodePayload(pkts []Packet) []byte {
	var out []byte
	for i, p := range pkts {
		if i > 0 {
			out = append(out, recordSeparator)
		}
		out = p.AppendPolling(out)
	}
	return out
}
