package parser_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// referencePlaceholders is the obvious tree walk CheckPlaceholders must
// agree with (it decodes everything, which the real one avoids).
func referencePlaceholders(data []byte, n int) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // big numbers are valid JSON, not decode errors
	if !json.Valid(data) || dec.Decode(&v) != nil {
		return parser.ErrInvalidPayload
	}
	var walk func(any) error
	walk = func(v any) error {
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				if err := walk(e); err != nil {
					return err
				}
			}
		case map[string]any:
			if ph, ok := t["_placeholder"].(bool); ok && ph {
				raw, ok := t["num"].(json.Number)
				num, err := strconv.ParseFloat(string(raw), 64)
				if !ok || err != nil || num != math.Trunc(num) || num < 0 || num >= float64(n) {
					return parser.ErrAttachments
				}
			}
			for _, e := range t {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v)
}

func FuzzCheckPlaceholders(f *testing.F) {
	for _, s := range []string{
		`["a",{"_placeholder":true,"num":0}]`, `["a",{"num":0,"_placeholder":true}]`,
		`["a",{"_placeholder":true,"num":"0"}]`, `["a",{"_placeholder":true}]`,
		`["a",{"_placeholder":false,"num":9}]`, `[{"x":{"_placeholder":true,"num":1}}]`,
		`[{"_placeholder":true,"num":0,"inner":{"_placeholder":true,"num":5}}]`,
		`[{"\u005fplaceholder":true,"num":7}]`, `[{"_placeholder":true,"num":1e0}]`,
		`[{"_placeholder":true,"num":[0]}]`, `{"_placeholder":true,"num":-0}`, `[1,"num",true]`,
	} {
		f.Add([]byte(s), 2)
	}
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > parser.MaxAttachments {
			return
		}
		got := parser.CheckPlaceholders(data, n)
		want := referencePlaceholders(data, n)
		if want == nil {
			require.NoError(t, got, "%s", data)
			return
		}
		require.ErrorIs(t, got, want, "%s", data)
	})
}
