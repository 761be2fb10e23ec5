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
	i++
	n, depth, start := 0, 0, -1
	inString := false
	for ; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 { // the closing bracket of the array
				if start >= 0 {
					n++
					if emit != nil {
						emit(data[start:i])
					}
				}
				return n, nil
			}
			depth--
		case ',':
			if depth == 0 {
				if start < 0 {
					return 0, ErrInvalidPayload
				}
				n++
				if emit != nil {
					emit(data[start:i])
				}
				start = -1
				continue
			}
		}
		if start < 0 {
			start = i
		}
	}
	return 0, ErrInvalidPayload
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
	// One frame per open object or array. In an object, key says which
	// member the next value belongs to.
	type frame struct {
		object   bool
		wantKey  bool
		key      byte // 'p': _placeholder, 'n': num, 0: other
		ph       bool
		numValid bool
	}
	var stack []frame
	// value records a value in the innermost object; raw is its text.
	value := func(raw []byte) {
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
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case ' ', '\t', '\r', '\n', ',', ':':
		case '{', '[':
			value(nil) // a nested value resets the member it stands for
			stack = append(stack, frame{object: c == '{', wantKey: c == '{'})
		case '}', ']':
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.ph && !f.numValid {
				return ErrAttachments
			}
		case '"':
			end := stringEnd(data, i)
			if f := top(stack); f != nil && f.object && f.wantKey {
				f.key = memberKey(data[i:end])
				f.wantKey = false
			} else {
				value(data[i:end])
			}
			i = end - 1
		default: // number or literal
			j := i
			for j < len(data) && strings.IndexByte(" \t\r\n,]}", data[j]) < 0 {
				j++
			}
			value(data[i:j])
			i = j - 1
		}
	}
	return nil
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
