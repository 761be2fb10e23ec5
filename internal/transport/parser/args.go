package parser

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// SplitArray splits a valid JSON array into its raw elements without
// decoding them; the elements alias data. Call it only on JSON that has
// passed json.Valid (Decode guarantees that for packet payloads). It
// counts first so the result is allocated once, at its exact size.
func SplitArray(data []byte) ([]json.RawMessage, error) {
	var out []json.RawMessage
	if len(data) > splitCountAbove {
		// Large payloads are counted first so that a packet of many tiny
		// arguments costs one exact allocation, not repeated growth.
		n, err := scanArray(data, nil)
		if err != nil || n == 0 {
			return nil, err
		}
		out = make([]json.RawMessage, 0, n)
	}
	_, err := scanArray(data, func(elem []byte) { out = append(out, trimSpace(elem)) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// splitCountAbove is the payload size from which SplitArray counts first.
const splitCountAbove = 4096

// scanArray walks the top level of a JSON array, calling emit (if not
// nil) with each element, and returns how many there are.
func scanArray(data []byte, emit func([]byte)) (int, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return 0, ErrInvalidPayload
	}
	s := arrayScan{data: data, start: -1}
	for i++; i < len(data); i++ {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			end := stringEnd(data, i)
			if end < 0 {
				return 0, ErrInvalidPayload
			}
			s.open(i)
			i = end - 1 // the closing quote
			continue
		case '[', '{':
			s.depth++
		case ']', '}':
			if s.depth == 0 { // the closing bracket of the array
				return s.last(i, emit), nil
			}
			s.depth--
		case ',':
			if s.depth == 0 {
				if s.start < 0 {
					return 0, ErrInvalidPayload
				}
				s.element(i, emit)
				continue
			}
		}
		s.open(i)
	}
	return 0, ErrInvalidPayload
}

// arrayScan is scanArray's state at the array's top level. emit is not
// kept in it: called through a field, it would escape, and SplitArray's
// closure with it (two allocations per call).
type arrayScan struct {
	data  []byte
	n     int // elements so far
	depth int // nesting inside the current element
	start int // where the current element starts; -1 between elements
}

// open notes that an element starts at i, unless one already runs.
func (s *arrayScan) open(i int) {
	if s.start < 0 {
		s.start = i
	}
}

// element ends the current element just before end and passes it to
// emit, if not nil.
func (s *arrayScan) element(end int, emit func([]byte)) {
	s.n++
	if emit != nil {
		emit(s.data[s.start:end])
	}
	s.start = -1
}

// last ends the array at its closing bracket, i, and returns the count.
func (s *arrayScan) last(i int, emit func([]byte)) int {
	if s.start >= 0 {
		s.element(i, emit)
	}
	return s.n
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

func trimSpace(b []byte) json.RawMessage {
	return json.RawMessage(bytes.TrimRight(b, " \t\r\n"))
}

// CheckPlaceholders verifies that every binary placeholder in data names an
// attachment that exists: {"_placeholder":true,"num":N} with integer
// 0 ≤ N < n. Guards against the malformed placeholders behind
// CVE-2022-2421 and CVE-2023-32695. It scans the bytes without decoding:
// memory grows with nesting depth only.
func CheckPlaceholders(data []byte, n int) error {
	if !json.Valid(data) {
		return ErrInvalidPayload
	}
	// One frame per open object or array. A local slice, appended to only
	// here: the compiler keeps a shallow one's backing store on the stack,
	// which it does not for a struct field.
	var stack []phFrame
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case ' ', '\t', '\r', '\n', ',', ':':
		case '{', '[':
			phValue(stack, nil, n) // a nested value resets the member it stands for
			stack = append(stack, phFrame{object: c == '{', wantKey: c == '{'})
		case '}', ']':
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.ph && !f.numValid {
				return ErrAttachments
			}
		case '"':
			end := stringEnd(data, i)
			phString(stack, data[i:end], n)
			i = end - 1
		default: // number or literal
			j := literalEnd(data, i)
			phValue(stack, data[i:j], n)
			i = j - 1
		}
	}
	return nil
}

// phFrame is an open object or array. In an object, key says which member
// the next value belongs to.
type phFrame struct {
	object   bool
	wantKey  bool
	key      byte // 'p': _placeholder, 'n': num, 0: other
	ph       bool
	numValid bool
}

// phValue records a value in the innermost object of stack; raw is its
// text and n the number of attachments.
func phValue(stack []phFrame, raw []byte, n int) {
	if len(stack) == 0 || !stack[len(stack)-1].object {
		return
	}
	f := &stack[len(stack)-1]
	switch f.key {
	case 'p':
		f.ph = string(raw) == "true"
	case 'n':
		// Any JSON spelling of an integer index counts (1e0 too), as
		// in the reference parser.
		v, err := strconv.ParseFloat(string(raw), 64)
		f.numValid = err == nil && v == math.Trunc(v) && v >= 0 && v < float64(n)
	}
	f.wantKey = true
}

// phString takes a JSON string (quotes included): a member's key, or a
// value.
func phString(stack []phFrame, raw []byte, n int) {
	if f := top(stack); f != nil && f.object && f.wantKey {
		f.key = memberKey(raw)
		f.wantKey = false
		return
	}
	phValue(stack, raw, n)
}

// literalEnd returns the index just past the number or literal at i.
func literalEnd(data []byte, i int) int {
	for i < len(data) && strings.IndexByte(" \t\r\n,]}", data[i]) < 0 {
		i++
	}
	return i
}

func top[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[len(s)-1]
}

// memberKey classifies an object key (raw JSON string, quotes included),
// decoding escapes so "\u005fplaceholder" cannot slip past.
func memberKey(raw []byte) byte {
	key := string(raw[1 : len(raw)-1])
	if bytes.IndexByte(raw, '\\') >= 0 {
		if json.Unmarshal(raw, &key) != nil {
			return 0
		}
	}
	switch key {
	case "_placeholder":
		return 'p'
	case "num":
		return 'n'
	}
	return 0
}
