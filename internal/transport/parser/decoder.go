package parser

import "errors"

// Errors of the streaming decoder.
var (
	ErrUnexpectedBinary = errors.New("binary message without a pending binary packet")
	ErrUnexpectedText   = errors.New("text packet while binary attachments are pending")
)

// Decoder reassembles packets from a stream of Engine.IO messages: a text
// packet, then as many binary messages as it announced. Not safe for
// concurrent use; one per session.
type Decoder struct {
	pending     *Packet
	attachments [][]byte
}

// Add feeds one message. It returns a complete packet and its attachments
// once available; done is false while attachments are still due.
func (d *Decoder) Add(data []byte, binary bool) (p Packet, attachments [][]byte, done bool, err error) {
	if binary {
		if d.pending == nil {
			return p, nil, false, ErrUnexpectedBinary
		}
		d.attachments = append(d.attachments, data)
		if len(d.attachments) < d.pending.Attachments {
			return p, nil, false, nil
		}
		p, attachments = *d.pending, d.attachments
		d.pending, d.attachments = nil, nil
		if err := CheckPlaceholders(p.Data, len(attachments)); err != nil {
			return Packet{}, nil, false, err
		}
		return p, attachments, true, nil
	}
	if d.pending != nil {
		return p, nil, false, ErrUnexpectedText
	}
	p, err = Decode(data)
	if err != nil {
		return Packet{}, nil, false, err
	}
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		if p.Attachments > 0 {
			pending := p // not &p: p is the named result, reset on return
			d.pending = &pending
			return Packet{}, nil, false, nil
		}
		if err := CheckPlaceholders(p.Data, 0); err != nil {
			return Packet{}, nil, false, err
		}
	}
	return p, nil, true, nil
}
