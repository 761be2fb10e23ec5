package main

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformanceLinkedOnlyWithTag checks the import graph of this
// command: the protocol test fixture is linked only into a binary built
// with -tags conformance, never into the production one.
func TestConformanceLinkedOnlyWithTag(t *testing.T) {
	const fixture = "github.com/dispatchd/dispatchd/internal/conformance"
	tests := []struct {
		name string
		tags string
		want bool
	}{
		{name: "production build", tags: "", want: false},
		{name: "conformance build", tags: "conformance", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			// -tags= on the command line overrides any -tags in GOFLAGS.
			out, err := exec.CommandContext(ctx, "go", "list", "-tags="+tt.tags, "-deps", ".").CombinedOutput()
			require.NoError(t, err, "go list: %s", out)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, "github.com/dispatchd/dispatchd/internal/transport", "go list printed no module package")
			assert.Equal(t, tt.want, slices.Contains(deps, fixture), "%s in the deps with -tags=%q", fixture, tt.tags)
		})
	}
}
