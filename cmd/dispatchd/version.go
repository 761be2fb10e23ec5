package main

import (
	"fmt"

	"github.com/dispatchd/dispatchd/internal/buildinfo"
)

// version prints the build: version (ldflags or module), VCS revision and
// time when built from git, and the Go version.
func (r runner) version(args []string) error {
	fs := r.newFlagSet("version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("version: unexpected arguments %q", fs.Args())
	}
	_, err := fmt.Fprintf(r.stdout, "dispatchd %s\n", buildinfo.Read())
	return err
}
