package engineio

import (
	"bytes"
	"encoding/base64"
	"fmt"
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

// DecodePayload splits a long-polling body into packets. Binary messages
// arrive as 'b' followed by standard base64.
func DecodePayload(body []byte) ([]Packet, error) {
	if len(body) == 0 {
		return nil, ErrEmptyPacket
	}
	n := bytes.Count(body, []byte{recordSeparator}) + 1
	pkts := make([]Packet, 0, n)
	for rec := range bytes.SplitSeq(body, []byte{recordSeparator}) {
		if len(rec) > 0 && rec[0] == 'b' {
			data := make([]byte, base64.StdEncoding.DecodedLen(len(rec)-1))
			m, err := base64.StdEncoding.Decode(data, rec[1:])
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadBase64, err)
			}
			pkts = append(pkts, Packet{Type: Message, Data: data[:m], Binary: true})
			continue
		}
		p, err := decodeText(rec)
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
