package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebsocketURL(t *testing.T) {
	tests := []struct {
		name    string
		base    string
		path    string
		want    string
		wantErr bool
	}{
		{name: "loopback http", base: "http://127.0.0.1:8080", path: "/socket.io/", want: "ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket"},
		{name: "localhost https", base: "https://localhost:8443", path: "socket.io", want: "wss://localhost:8443/socket.io/?EIO=4&transport=websocket"},
		{name: "ipv6 loopback", base: "http://[::1]:8080", path: "/socket.io/", want: "ws://[::1]:8080/socket.io/?EIO=4&transport=websocket"},
		{name: "other loopback address", base: "http://127.0.0.9:80", path: "/x/", want: "ws://127.0.0.9:80/x/?EIO=4&transport=websocket"},
		{name: "remote host refused", base: "http://example.com:8080", path: "/socket.io/", wantErr: true},
		{name: "private address refused", base: "http://10.0.0.1:8080", path: "/socket.io/", wantErr: true},
		{name: "unknown scheme", base: "ftp://127.0.0.1", path: "/socket.io/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := websocketURL(tt.base, tt.path)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReadStatusOfSelf(t *testing.T) {
	m, err := readStatus(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, m.rss)
	assert.Positive(t, m.threads)
}

func TestParseFlagsSpreadsSources(t *testing.T) {
	cfg, err := parseFlags([]string{"dispatch-conns", "-n", "50000"}, os.Stderr)
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.sources)
	_, err = parseFlags([]string{"dispatch-conns", "-n", "0"}, os.Stderr)
	require.Error(t, err)
}
