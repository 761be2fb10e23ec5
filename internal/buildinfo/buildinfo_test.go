package buildinfo

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFrom(t *testing.T) {
	git := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/dispatchd/dispatchd", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-03T14:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tagged := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.4.0"}}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		rev      string
		want     Info
		str      string
	}{
		{
			name: "git checkout",
			bi:   git,
			want: Info{Version: "(devel)", Revision: "0123456789abcdef0123456789abcdef01234567",
				Time: "2026-12-03T14:00:00Z", Modified: true, GoVersion: "go1.99.1"},
			str: "(devel) 0123456789ab+dirty 2026-12-03T14:00:00Z go1.99.1",
		},
		{
			name: "ldflags override wins", bi: git, override: "v2.0.0-rc1",
			want: Info{Version: "v2.0.0-rc1", Revision: "0123456789abcdef0123456789abcdef01234567",
				Time: "2026-12-03T14:00:00Z", Modified: true, GoVersion: "go1.99.1"},
			str: "v2.0.0-rc1 0123456789ab+dirty 2026-12-03T14:00:00Z go1.99.1",
		},
		{
			name: "ldflags revision when the toolchain recorded none", bi: tagged, override: "v1.4.1", rev: "fedcba9876543210",
			want: Info{Version: "v1.4.1", Revision: "fedcba9876543210", GoVersion: "go1.99.1"},
			str:  "v1.4.1 fedcba987654 go1.99.1",
		},
		{
			name: "the recorded revision wins", bi: git, rev: "fedcba9876543210",
			want: Info{Version: "(devel)", Revision: "0123456789abcdef0123456789abcdef01234567",
				Time: "2026-12-03T14:00:00Z", Modified: true, GoVersion: "go1.99.1"},
			str: "(devel) 0123456789ab+dirty 2026-12-03T14:00:00Z go1.99.1",
		},
		{
			name: "module version, no vcs", bi: tagged,
			want: Info{Version: "v1.4.0", GoVersion: "go1.99.1"},
			str:  "v1.4.0 go1.99.1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := from(tt.bi, tt.override, tt.rev)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.str, got.String())
		})
	}
}

func TestFromNoBuildInfo(t *testing.T) {
	got := from(nil, "", "")
	require.Equal(t, "(devel)", got.Version)
	require.NotEmpty(t, got.GoVersion)
}
