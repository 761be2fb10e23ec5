package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMinimalFilters(t *testing.T) {
	tests := []struct {
		name string
		give []string
		want []string
	}{
		{"distinct", []string{"a.v.1", "a.c.1"}, []string{"a.v.1", "a.c.1"}},
		{"duplicate", []string{"a.v.1", "a.v.1"}, []string{"a.v.1"}},
		{"star covers literal", []string{"a.p.z1", "a.p.*"}, []string{"a.p.*"}},
		{"full wildcard covers all below", []string{"a.p.*", "a.>", "a.v.1"}, []string{"a.>"}},
		{"duplicate wildcards", []string{"a.p.*", "a.p.*"}, []string{"a.p.*"}},
		{"partial overlap kept", []string{"a.*.c", "a.b.*"}, []string{"a.*.c", "a.b.*"}},
		{"star does not cover deeper", []string{"a.*", "a.b.c"}, []string{"a.*", "a.b.c"}},
		{"literal does not cover star", []string{"a.p.z1", "a.p.*", "b.>"}, []string{"a.p.*", "b.>"}},
		{"gt needs a token", []string{"a.>", "a"}, []string{"a.>", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, minimalFilters(tt.give))
		})
	}
}
