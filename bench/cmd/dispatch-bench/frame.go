package main

import (
	"bytes"
	"errors"
	"strconv"
)

// errFrame is any text frame the bench cannot read as Engine.IO/Socket.IO.
var errFrame = errors.New("malformed frame")

// noAck marks a Socket.IO packet without an ack id.
const noAck = -1

// frame is one Engine.IO text packet and, for messages, its Socket.IO
// header. Every slice points into the bytes given to parseFrame: copy what
// must outlive the next read.
type frame struct {
	eio   byte   // Engine.IO type digit: '0' open, '2' ping, '4' message, ...
	sio   byte   // Socket.IO type digit when eio == '4'
	ns    []byte // namespace, "" for "/"
	ackID int64  // noAck when absent
	data  []byte // the JSON payload after the ack id (may be empty)
	name  []byte // EVENT only: the event name
	args  []byte // EVENT only: what follows the name, "]" when none
}

// parseFrame reads the header of an Engine.IO text packet. For EVENT it
// also splits off the event name with a byte scan; the arguments stay raw
// for the field scanners below. It never decodes JSON.
func parseFrame(b []byte) (frame, error) {
	f := frame{ackID: noAck}
	if len(b) == 0 {
		return f, errFrame
	}
	f.eio = b[0]
	if f.eio < '0' || f.eio > '6' {
		return f, errFrame
	}
	if f.eio != '4' {
		f.data = b[1:]
		return f, nil
	}
	return parseMessage(f, b[1:])
}

// parseMessage reads the Socket.IO packet b that an Engine.IO message
// carries into f.
func parseMessage(f frame, b []byte) (frame, error) {
	if len(b) == 0 {
		return f, errFrame
	}
	f.sio = b[0]
	if f.sio < '0' || f.sio > '6' {
		return f, errFrame
	}
	b = b[1:]
	if f.sio == '5' || f.sio == '6' {
		// Binary attachments: the bench never asks for them; skip the count.
		i := bytes.IndexByte(b, '-')
		if i < 0 {
			return f, errFrame
		}
		b = b[i+1:]
	}
	f.ns, b = splitNamespace(b)
	var ok bool
	if f.ackID, b, ok = splitAckID(b); !ok {
		return f, errFrame
	}
	f.data = b
	if f.sio == '2' || f.sio == '5' {
		name, rest, ok := eventName(b)
		if !ok {
			return f, errFrame
		}
		f.name, f.args = name, rest
	}
	return f, nil
}

// splitNamespace splits a leading "/ns," off b; ns is nil for the main
// namespace, spelt out or not.
func splitNamespace(b []byte) (ns, rest []byte) {
	if len(b) == 0 || b[0] != '/' {
		return nil, b
	}
	i := bytes.IndexByte(b, ',')
	if i < 0 {
		ns, rest = b, nil
	} else {
		ns, rest = b[:i], b[i+1:]
	}
	if len(ns) == 1 {
		ns = nil // "/," is the main namespace spelt out
	}
	return ns, rest
}

// splitAckID splits leading ack id digits off b: noAck when there are
// none, not ok when there are too many for an int64.
func splitAckID(b []byte) (id int64, rest []byte, ok bool) {
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == 0 {
		return noAck, b, true
	}
	if j > 18 {
		return noAck, b, false
	}
	n, _ := strconv.ParseInt(string(b[:j]), 10, 64)
	return n, b[j:], true
}

// eventName splits `["name",args...]` into name and `args...]`. Names with
// escapes are refused: no dispatch event has one.
func eventName(b []byte) (name, rest []byte, ok bool) {
	if len(b) < 4 || b[0] != '[' || b[1] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[2:], '"')
	if end < 0 {
		return nil, nil, false
	}
	name = b[2 : 2+end]
	if bytes.IndexByte(name, '\\') >= 0 {
		return nil, nil, false
	}
	rest = b[2+end+1:]
	if len(rest) == 0 {
		return nil, nil, false
	}
	switch rest[0] {
	case ',':
		rest = rest[1:]
	case ']':
	default:
		return nil, nil, false
	}
	return name, rest, true
}

// appendPacket appends a Socket.IO packet header (type, namespace, ack id)
// as an Engine.IO message; the caller appends the JSON payload.
func appendPacket(dst []byte, sio byte, ns string, ackID int64) []byte {
	dst = append(dst, '4', sio)
	if ns != "" && ns != "/" {
		dst = append(dst, ns...)
		dst = append(dst, ',')
	}
	if ackID >= 0 {
		dst = strconv.AppendInt(dst, ackID, 10)
	}
	return dst
}

// fieldValue finds the first `"key":` in b and returns the raw value after
// it: a string's contents without quotes (escapes left as they are), or a
// number, true, false or null up to the next delimiter. It assumes the
// payload's keys are not repeated in nested objects before the top-level
// one, which holds for every field the bench reads.
func fieldValue(b []byte, key string) ([]byte, bool) {
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], []byte(key))
		if i < 0 {
			return nil, false
		}
		i += off
		off = i + len(key)
		if j, ok := valueStart(b, i, off); ok {
			return rawValue(b, j)
		}
	}
	return nil, false
}

// valueStart reports where the value starts when the key found at
// b[i:end] is a whole quoted key followed by a colon.
func valueStart(b []byte, i, end int) (int, bool) {
	if i == 0 || b[i-1] != '"' || end >= len(b) || b[end] != '"' {
		return 0, false
	}
	j := skipSpace(b, end+1)
	if j >= len(b) || b[j] != ':' {
		return 0, false
	}
	return skipSpace(b, j+1), true
}

// rawValue returns the value starting at b[j]: a string's contents
// without quotes, or anything else up to the next delimiter.
func rawValue(b []byte, j int) ([]byte, bool) {
	if j >= len(b) {
		return nil, false
	}
	if b[j] == '"' {
		for k := j + 1; k < len(b); k++ {
			switch b[k] {
			case '\\':
				k++
			case '"':
				return b[j+1 : k], true
			}
		}
		return nil, false
	}
	k := j
	for k < len(b) && b[k] != ',' && b[k] != '}' && b[k] != ']' && b[k] != ' ' {
		k++
	}
	if k == j {
		return nil, false
	}
	return b[j:k], true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// fieldInt reads an integer field.
func fieldInt(b []byte, key string) (int64, bool) {
	v, ok := fieldValue(b, key)
	if !ok || len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// ackResult reads an ack payload `[{"ok":true,...}]` or
// `[{"ok":false,"error":{"code":"..."}}]`. code is "" when ok; a payload
// that is neither gives code "bad_ack".
func ackResult(data []byte) (ok bool, code string) {
	v, found := fieldValue(data, "ok")
	if !found {
		return false, "bad_ack"
	}
	if string(v) == "true" {
		return true, ""
	}
	c, found := fieldValue(data, "code")
	if !found || len(c) == 0 {
		return false, "bad_ack"
	}
	return false, string(c)
}

// orderIndex reads the bench's order number from the order's store name
// ("bench-<run>-<i>"); -1 when the order is not one of this run's.
func orderIndex(b []byte, run string) int64 {
	v, ok := fieldValue(b, "store")
	if !ok || len(v) <= len(run)+7 || string(v[:6]) != "bench-" || string(v[6:6+len(run)]) != run || v[6+len(run)] != '-' {
		return -1
	}
	var n int64
	for _, c := range v[7+len(run):] {
		if c < '0' || c > '9' || n > 1<<40 {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
