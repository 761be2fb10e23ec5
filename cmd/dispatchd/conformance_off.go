//go:build !conformance

package main

import (
	"context"
	"errors"
)

// errNoConformance answers `dispatchd conformance` in a production build:
// the protocol test fixture is linked only with -tags conformance.
var errNoConformance = errors.New("conformance: this binary was built without the test fixture; " +
	"build it with -tags conformance (go run -tags conformance ./cmd/dispatchd conformance)")

func (runner) conformance(context.Context, []string) error {
	return errNoConformance
}
