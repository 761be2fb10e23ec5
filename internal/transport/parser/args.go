package parser

import (
	"bytes"
	"encoding/json"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// SplitArray splits a valid JSON array into its raw elements without
// decoding them; the elements alias data. Call it only on JSON that has
// passed json.Valid (Decode guarantees that for packet payloads).
func SplitArray(data []byte) ([]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, ErrInvalidPayload
	}
	i++
	var out []json.RawMessage
	depth := 0
	start := -1
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
					out = append(out, trimSpace(data[start:i]))
				}
				return out, nil
			}
			depth--
		case ',':
			if depth == 0 {
				if start < 0 {
					return nil, ErrInvalidPayload
				}
				out = append(out, trimSpace(data[start:i]))
				start = -1
				continue
			}
		}
		if start < 0 {
			start = i
		}
	}
	return nil, ErrInvalidPayload
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
// CVE-2022-2421 and CVE-2023-32695.
func CheckPlaceholders(data []byte, n int) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return ErrInvalidPayload
	}
	return walkPlaceholders(v, n)
}

func walkPlaceholders(v any, n int) error {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if err := walkPlaceholders(e, n); err != nil {
				return err
			}
		}
	case map[string]any:
		if ph, ok := t["_placeholder"].(bool); ok && ph {
			num, ok := t["num"].(float64)
			if !ok || num != float64(int(num)) || num < 0 || int(num) >= n {
				return ErrAttachments
			}
			return nil
		}
		for _, e := range t {
			if err := walkPlaceholders(e, n); err != nil {
				return err
			}
		}
	}
	return nil
}
