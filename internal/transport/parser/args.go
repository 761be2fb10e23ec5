package parser

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
)

// SplitArray splits a valid JSON array into its raw elements without
// decoding them; the elements alias data. Call it only on JSON that has
// passed json.Valid (Decode guarantees that for packet payloads). It
// counts first so the result is allocated once, at its exact size.
func SplitArray(data []byte) ([]json.RawMessage, error) {
	n, err := scanArray(data, nil)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]json.RawMessage, 0, n)
	_, err = scanArray(data, func(elem []byte) { out = append(out, trimSpace(elem)) })
	return out, err
}

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
// CVE-2022-2421 and CVE-2023-32695. It streams tokens instead of building
// a tree, so memory stays proportional to nesting depth, not size.
func CheckPlaceholders(data []byte, n int) error {
	if !json.Valid(data) { // Token alone would accept several values
		return ErrInvalidPayload
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// One frame per open object or array; for objects, the key whose
	// value comes next and what the object held so far.
	type frame struct {
		object   bool
		key      string
		wantKey  bool
		ph       bool // "_placeholder": true
		numValid bool // "num" is an integer naming an attachment
	}
	var stack []frame
	value := func(tok any) {
		if len(stack) == 0 || !stack[len(stack)-1].object {
			return
		}
		f := &stack[len(stack)-1]
		switch f.key {
		case "_placeholder":
			b, ok := tok.(bool)
			f.ph = ok && b
		case "num":
			f.numValid = false
			if num, ok := tok.(json.Number); ok {
				if v, err := strconv.ParseInt(num.String(), 10, 64); err == nil && v >= 0 && v < int64(n) {
					f.numValid = true
				}
			}
		}
		f.wantKey = true
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ErrInvalidPayload
		}
		if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantKey {
			if key, ok := tok.(string); ok {
				stack[len(stack)-1].key = key
				stack[len(stack)-1].wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			value(nil) // an object value resets any key it stands for
			stack = append(stack, frame{object: true, wantKey: true})
		case json.Delim('['):
			value(nil)
			stack = append(stack, frame{})
		case json.Delim('}'):
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.ph && !f.numValid {
				return ErrAttachments
			}
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			value(tok)
		}
	}
}
