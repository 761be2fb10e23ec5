package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		case "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	// A port nothing listens on: bind one, then free it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String() + "/healthz"
	require.NoError(t, ln.Close())

	tests := []struct {
		name    string
		args    []string
		wantErr string // empty: healthy
	}{
		{name: "200 is healthy", args: []string{"--url", srv.URL + "/healthz"}},
		{name: "503 is not", args: []string{"--url", srv.URL + "/readyz"}, wantErr: "503"},
		{name: "a redirect is not followed", args: []string{"--url", srv.URL + "/moved"}, wantErr: "302"},
		{name: "nothing listening", args: []string{"--url", closed}, wantErr: "connection refused"},
		{name: "bad timeout", args: []string{"--url", srv.URL, "--timeout", "0s"}, wantErr: "--timeout"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &lockedBuffer{}
			err := run(context.Background(), append([]string{"dispatchd", "health"}, tt.args...), envMap(nil), out)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "ok\n", out.String())
		})
	}
}

// TestHealthCommandAgainstServe probes the real server through its default
// URL, derived from DISPATCH_ADDR as in the container image.
func TestHealthCommandAgainstServe(t *testing.T) {
	s := start(t, nil, "serve", "--addr", "127.0.0.1:0")
	_, port, err := net.SplitHostPort(s.addr)
	require.NoError(t, err)
	// The address comes from the same layers as serve's: the environment,
	// the config file, the flag; a wrong layer beneath is overridden.
	file := filepath.Join(t.TempDir(), "dispatchd.yaml")
	require.NoError(t, os.WriteFile(file, []byte("http:\n  addr: \":"+port+"\"\n"), 0o600))
	wrongFile := filepath.Join(t.TempDir(), "wrong.yaml")
	require.NoError(t, os.WriteFile(wrongFile, []byte("http:\n  addr: \":1\"\n"), 0o600))
	probes := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"DISPATCH_ADDR", map[string]string{"DISPATCH_ADDR": ":" + port}, nil},
		{"DISPATCH_CONFIG", map[string]string{"DISPATCH_CONFIG": file}, nil},
		{"--config", nil, []string{"--config", file}},
		{"--addr over the file", map[string]string{"DISPATCH_CONFIG": wrongFile}, []string{"--addr", "127.0.0.1:" + port}},
		{"env over the file", map[string]string{"DISPATCH_CONFIG": wrongFile, "DISPATCH_ADDR": ":" + port}, nil},
	}
	for _, p := range probes {
		args := append([]string{"dispatchd", "health"}, p.args...)
		require.NoError(t, run(context.Background(), args, envMap(p.env), &lockedBuffer{}), p.name)
	}
	require.Error(t, run(context.Background(), []string{"dispatchd", "health"}, envMap(map[string]string{"DISPATCH_CONFIG": wrongFile}), &lockedBuffer{}),
		"the file's wrong port")
	require.NoError(t, s.stop(t))
	env := envMap(map[string]string{"DISPATCH_ADDR": ":" + port})
	require.Error(t, run(context.Background(), []string{"dispatchd", "health"}, env, &lockedBuffer{}), "stopped server")
}

func TestHealthURL(t *testing.T) {
	tests := []struct{ give, want string }{
		{"", "http://127.0.0.1:8080/healthz"},
		{":9090", "http://127.0.0.1:9090/healthz"},
		{"0.0.0.0:8081", "http://127.0.0.1:8081/healthz"},
		{"[::]:8082", "http://127.0.0.1:8082/healthz"},
		{"10.1.2.3:8083", "http://10.1.2.3:8083/healthz"},
		{"[::1]:8084", "http://[::1]:8084/healthz"},
		{"garbage", "http://127.0.0.1:8080/healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.Equal(t, tt.want, healthURL(tt.give))
		})
	}
}
