//go:build conformance

package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fixture's own tests run with -tags conformance (scripts/test does);
// conformance_off_test.go covers the production build.

func TestConformanceCommand(t *testing.T) {
	s := start(t, nil, "conformance", "--addr", "127.0.0.1:0")

	code, body := get(t, "http://"+s.addr+"/engine.io/?EIO=4&transport=polling")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"pingInterval":300`)

	code, body = get(t, "http://"+s.addr+"/socket.io/?EIO=4&transport=polling")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"pingInterval":300`)

	require.NoError(t, s.stop(t))
}

func TestConformanceFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // empty: success
		wantOut string
	}{
		{name: "help", args: []string{"conformance", "-h"}, wantOut: "-addr"},
		{name: "bad log format", args: []string{"conformance", "--log-format", "xml"}, wantErr: "log format"},
		{name: "stray argument", args: []string{"conformance", "extra"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &lockedBuffer{}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			err := run(ctx, append([]string{"dispatchd"}, tt.args...), envMap(nil), out)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, out.String(), tt.wantOut)
		})
	}
}
