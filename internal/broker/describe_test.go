package broker

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDescribe(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"embedded", Config{DataDir: dir}, "embedded " + filepath.Join(dir, "nats")},
		{"external", Config{URL: "nats://127.0.0.1:4222"}, "external nats://127.0.0.1:4222"},
		{"credentials dropped", Config{URL: "nats://user:s3cret@n1:4222, nats://tok3n@n2:4222"},
			"external nats://n1:4222,nats://n2:4222"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.Describe()
			require.Equal(t, tt.want, got)
			require.NotContains(t, got, "s3cret")
			require.NotContains(t, got, "tok3n")
		})
	}
}
