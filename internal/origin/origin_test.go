package origin

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	const host = "dispatch.example:8080"
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string
		want    Grant
	}{
		{"no Origin: not a browser", nil, "", None},
		{"no Origin, any list", []string{"https://shop.example"}, "", None},
		{"empty list: own origin", nil, "http://dispatch.example:8080", Full},
		{"empty list: own origin, other scheme and case", nil, "HTTPS://Dispatch.Example:8080", Full},
		{"empty list: other port", nil, "http://dispatch.example:9090", Refused},
		{"empty list: other host", nil, "https://evil.example", Refused},
		{"empty list: null origin", nil, "null", Refused},
		{"empty list: not a URL", nil, "::::", Refused},
		{"listed", []string{"https://shop.example"}, "https://shop.example", Full},
		{"listed, case aside", []string{"https://shop.example"}, "https://SHOP.example", Full},
		{"listed list does not allow own origin", []string{"https://shop.example"}, "http://dispatch.example:8080", Refused},
		{"not listed", []string{"https://shop.example"}, "https://shop.example.evil", Refused},
		{"star: any, no credentials", []string{"*"}, "https://evil.example", Any},
		{"star and listed: listed gets credentials", []string{"*", "https://shop.example"}, "https://shop.example", Full},
		{"star and listed: others any", []string{"https://shop.example", "*"}, "https://other.example", Any},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, New(tc.allowed).Check(tc.origin, host))
		})
	}
}
