// Package buildinfo says which build of dispatchd is running: the version
// set at link time, else the module version, and the VCS revision, time and
// dirty flag the Go toolchain records when it builds from a git checkout.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// version and revision are set at link time, for builds outside a git
// checkout (a source tarball, a Docker context without .git, a git
// worktree, which the Go toolchain does not stamp):
//
//	go build -ldflags "-X github.com/dispatchd/dispatchd/internal/buildinfo.version=v1.2.3
//	  -X github.com/dispatchd/dispatchd/internal/buildinfo.revision=$(git rev-parse HEAD)"
//
// Package variables only because the linker can set nothing else.
var version, revision string

// Info describes one build. Fields the build did not record are empty.
type Info struct {
	Version   string // ldflags, else the module version, else "(devel)"
	Revision  string // vcs.revision
	Time      string // vcs.time, RFC 3339
	Modified  bool   // vcs.modified: built from a tree with uncommitted changes
	GoVersion string
}

// Read returns this binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return from(bi, version, revision)
}

// from builds Info from what the toolchain recorded and the link-time
// overrides (empty: none); bi may be nil (a binary built without module
// support).
func from(bi *debug.BuildInfo, override, rev string) Info {
	info := Info{Version: "(devel)", GoVersion: runtime.Version()}
	if bi != nil {
		if bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if override != "" {
		info.Version = override
	}
	if rev != "" && info.Revision == "" {
		info.Revision = rev
	}
	return info
}

// String is the one-line form `dispatchd version` prints: version, short
// revision (with "+dirty" when modified), commit time and Go version.
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" {
		s += " " + i.ShortRevision()
		if i.Modified {
			s += "+dirty"
		}
	}
	if i.Time != "" {
		s += " " + i.Time
	}
	return s + " " + i.GoVersion
}

// ShortRevision is the first 12 hex digits of the revision, as git shows it.
func (i Info) ShortRevision() string {
	if len(i.Revision) > 12 {
		return i.Revision[:12]
	}
	return i.Revision
}
