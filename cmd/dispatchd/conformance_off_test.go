//go:build !conformance

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConformanceNotBuilt checks that a production build refuses the
// subcommand and says how to get it, whatever its flags.
func TestConformanceNotBuilt(t *testing.T) {
	for _, args := range [][]string{{"conformance"}, {"conformance", "--addr", "127.0.0.1:0"}, {"conformance", "-h"}} {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		err := run(ctx, append([]string{"dispatchd"}, args...), envMap(nil), &lockedBuffer{})
		cancel()
		require.ErrorIs(t, err, errNoConformance, "args %q", args)
		require.ErrorContains(t, err, "-tags conformance")
	}
}
