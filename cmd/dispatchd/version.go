package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version prints the module version and, when the build recorded it, the
// VCS revision. Build metadata replaces a link-time variable.
func (r runner) version(args []string) error {
	fs := r.newFlagSet("version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = " " + s.Value
			}
		}
	}
	_, err := fmt.Fprintf(r.stdout, "dispatchd %s%s %s\n", v, rev, runtime.Version())
	return err
}
