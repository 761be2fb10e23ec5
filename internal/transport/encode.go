package transport

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// Message is a received event's arguments (the event name excluded) or an
// acknowledgement's. Args are raw JSON exactly as the peer sent them; binary
// parts stay as {"_placeholder":true,"num":N} with the bytes in Attachments.
type Message struct {
	Args        []json.RawMessage
	Attachments [][]byte
}

// encoder builds the frames of one outbound packet.
type encoder struct {
	payload []byte
	atts    [][]byte
}

// encode returns the frames of an EVENT (with its name) or ACK packet: the
// text packet followed by its attachments. Shared frames are framed once
// for WebSocket and may be queued to many sessions.
func encode(pkt parser.Packet, name string, args []any, shared bool) ([]*engineio.Frame, error) {
	if textOnly(args) {
		return encodeText(pkt, name, args, shared)
	}
	var e encoder
	e.payload = make([]byte, 0, 64)
	if err := e.appendArgs(pkt.Type == parser.Event, name, args); err != nil {
		return nil, err
	}
	if len(e.atts) > 0 {
		if pkt.Type == parser.Event {
			pkt.Type = parser.BinaryEvent
		} else {
			pkt.Type = parser.BinaryAck
		}
		pkt.Attachments = len(e.atts)
	}
	wire := make([]byte, 0, len(e.payload)+len(pkt.Namespace)+24)
	wire = append(wire, byte(engineio.Message))
	wire = pkt.AppendHeader(wire)
	wire = append(wire, e.payload...)
	frames := make([]*engineio.Frame, 0, 1+len(e.atts))
	frames = append(frames, engineio.NewTextMessage(wire, shared))
	for _, a := range e.atts {
		if shared {
			frames = append(frames, engineio.NewSharedMessage(a, true))
		} else {
			frames = append(frames, engineio.NewMessage(a, true))
		}
	}
	return frames, nil
}

// textOnly reports that no argument can bring binary attachments, so that
// the packet's header is known before its payload is written.
func textOnly(args []any) bool {
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			return false
		case *Message:
			if len(v.Attachments) > 0 {
				return false
			}
		}
	}
	return true
}

// encodeText writes a packet without attachments straight into the bytes
// of its frame, sized up front for the arguments that are JSON already: a
// delivered event costs one buffer instead of a growing payload and a
// copy of it behind the header.
func encodeText(pkt parser.Packet, name string, args []any, shared bool) ([]*engineio.Frame, error) {
	var e encoder
	e.payload = make([]byte, 0, textSize(pkt, name, args))
	e.payload = append(e.payload, byte(engineio.Message))
	e.payload = pkt.AppendHeader(e.payload)
	if err := e.appendArgs(pkt.Type == parser.Event, name, args); err != nil {
		return nil, err
	}
	return []*engineio.Frame{engineio.NewTextMessage(e.payload, shared)}, nil
}

// textSize estimates a text packet's length; appends past it still work.
func textSize(pkt parser.Packet, name string, args []any) int {
	n := 1 + 2 + len(pkt.Namespace) + 1 + 20 + 2 + len(name) + 2 + len(args)
	for _, a := range args {
		switch v := a.(type) {
		case json.RawMessage:
			n += len(v)
		case string:
			n += len(v) + 2
		case *Message:
			for _, raw := range v.Args {
				n += len(raw) + 1
			}
		default:
			n += 16
		}
	}
	return n
}

// appendArgs writes the JSON array of the event's name (for an EVENT) and
// args.
func (e *encoder) appendArgs(event bool, name string, args []any) error {
	e.payload = append(e.payload, '[')
	if event {
		e.payload = appendString(e.payload, name)
	}
	for i, a := range args {
		if i > 0 || event {
			e.payload = append(e.payload, ',')
		}
		if err := e.arg(a); err != nil {
			return err
		}
	}
	e.payload = append(e.payload, ']')
	return nil
}

func (e *encoder) arg(a any) error {
	switch v := a.(type) {
	case nil:
		e.payload = append(e.payload, "null"...)
	case json.RawMessage:
		if len(v) == 0 {
			e.payload = append(e.payload, "null"...)
			return nil
		}
		e.payload = append(e.payload, v...)
	case []byte:
		e.payload = append(e.payload, `{"_placeholder":true,"num":`...)
		e.payload = strconv.AppendInt(e.payload, int64(len(e.atts)), 10)
		e.payload = append(e.payload, '}')
		e.atts = append(e.atts, v)
	case *Message:
		// Placeholders inside m are numbered from 0, so they only stay
		// right when m's attachments come first.
		if len(v.Attachments) > 0 && len(e.atts) > 0 {
			return ErrMixedBinary
		}
		for i, raw := range v.Args {
			if i > 0 {
				e.payload = append(e.payload, ',')
			}
			e.payload = append(e.payload, raw...)
		}
		if len(v.Args) == 0 {
			// An empty splice must not leave a dangling comma.
			e.payload = bytes.TrimSuffix(e.payload, []byte{','})
		}
		e.atts = append(e.atts, v.Attachments...)
	case string:
		e.payload = appendString(e.payload, v)
	case bool:
		e.payload = strconv.AppendBool(e.payload, v)
	case int:
		e.payload = strconv.AppendInt(e.payload, int64(v), 10)
	case int64:
		e.payload = strconv.AppendInt(e.payload, v, 10)
	case uint64:
		e.payload = strconv.AppendUint(e.payload, v, 10)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // match JSON.stringify byte for byte
		if err := enc.Encode(v); err != nil {
			return err
		}
		e.payload = append(e.payload, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
	}
	return nil
}

// appendString writes s as a JSON string the way JSON.stringify does:
// only quotes, backslashes and control characters are escaped.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"':
			dst = append(dst, '\\', '"')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// connectErrorPayload is the CONNECT_ERROR body.
func connectErrorPayload(err error) []byte {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{Message: err.Error()}
	if ce, ok := err.(*ConnectError); ok {
		body.Message, body.Data = ce.Message, ce.Data
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(body) != nil {
		return []byte(`{"message":"internal error"}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}
