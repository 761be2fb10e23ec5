package store

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
		{"sqlite", Config{DataDir: dir}, "sqlite " + filepath.Join(dir, "dispatchd.db")},
		{"postgres without password", Config{DatabaseURL: "postgres://app:s3cret@db.internal:5432/dispatch?sslmode=require"},
			"postgres db.internal:5432/dispatch"},
		{"postgres no user", Config{DatabaseURL: "postgresql://127.0.0.1/test"}, "postgres 127.0.0.1/test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.Describe()
			require.Equal(t, tt.want, got)
			require.NotContains(t, got, "s3cret")
			require.NotContains(t, got, "app")
		})
	}
}
