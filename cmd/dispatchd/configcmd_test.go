package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runOut runs the command line args and returns its stdout and error.
func runOut(t testing.TB, env map[string]string, args ...string) (string, error) {
	t.Helper()
	out := &lockedBuffer{}
	err := run(context.Background(), append([]string{"dispatchd"}, args...), envMap(env), out)
	return out.String(), err
}

func TestConfigCheckExample(t *testing.T) {
	out, err := runOut(t, nil, "config", "check", filepath.Join("..", "..", "configs", "dispatchd.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "ok\n", out)
}

// TestConfigCheckReportsEverything puts two unknown keys and one bad value
// in one file: all three come out, one a line.
func TestConfigCheckReportsEverything(t *testing.T) {
	file := writeFile(t, "http:\n  adr: \":1\"\nnats:\n  replicas: 9\nlogging: {}\n")
	out, err := runOut(t, nil, "config", "check", file)
	require.ErrorContains(t, err, "3 problem(s)")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Len(t, lines, 3, out)
	assert.Contains(t, lines[0], "line 2: field adr not found")
	assert.Contains(t, lines[1], "line 5: field logging not found")
	assert.Contains(t, lines[2], "nats.replicas must be 1 to 5, got 9")
	assert.NotContains(t, out, "ok")
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		args     []string
		env      map[string]string
		wantErr  string // empty: valid
		contains []string
	}{
		{
			name: "empty file is the defaults",
			file: "# nothing\n",
		},
		{
			name:     "wrong type and invalid value together",
			file:     "transport:\n  ping_interval: soon\nlog:\n  level: loud\n",
			wantErr:  "2 problem(s)",
			contains: []string{"line 2", "soon", "log.level"},
		},
		{
			name:     "syntax error stops early",
			file:     "http: [\n",
			wantErr:  "1 problem(s)",
			contains: []string{"parse config"},
		},
		{
			name: "environment ignored by default",
			file: "log:\n  level: debug\n",
			env:  map[string]string{"DISPATCH_LOG_LEVEL": "loud"},
		},
		{
			name:     "environment applied with --env",
			file:     "log:\n  level: debug\n",
			args:     []string{"--env"},
			env:      map[string]string{"DISPATCH_LOG_LEVEL": "loud", "DISPATCH_NATS_REPLICAS": "three"},
			wantErr:  "2 problem(s)",
			contains: []string{"DISPATCH_NATS_REPLICAS", "log.level"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"config", "check"}, tt.args...), writeFile(t, tt.file))
			out, err := runOut(t, tt.env, args...)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "ok\n", out)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			for _, s := range tt.contains {
				assert.Contains(t, out+err.Error(), s)
			}
		})
	}
}

func TestConfigCommandErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no subcommand", args: []string{"config"}, wantErr: "want a subcommand"},
		{name: "unknown subcommand", args: []string{"config", "lint"}, wantErr: `unknown subcommand "lint"`},
		{name: "check without file", args: []string{"config", "check"}, wantErr: "exactly one FILE"},
		{name: "check missing file", args: []string{"config", "check", "/nonexistent/x.yaml"}, wantErr: "1 problem(s)"},
		{name: "env with arguments", args: []string{"config", "env", "x"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOut(t, nil, tt.args...)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestConfigEnv(t *testing.T) {
	out, err := runOut(t, nil, "config", "env")
	require.NoError(t, err)
	names := strings.Fields(out)
	assert.Equal(t, envNames(), names)
	for _, want := range []string{"DISPATCH_CONFIG", "DISPATCH_ADDR", "DISPATCH_JWT_SECRET", "DISPATCH_DATA_DIR",
		"DISPATCH_NATS_URL", "DISPATCH_DATABASE_URL", "DISPATCH_NATS_REPLICAS"} {
		assert.Contains(t, names, want)
	}
}
