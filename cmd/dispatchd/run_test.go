package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/buildinfo"
	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(asDispatchd) == "1" {
		// Re-executed by a test as the dispatchd binary itself.
		os.Args = append([]string{"dispatchd"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

const waitTimeout = 10 * time.Second

// lockedBuffer collects the command's stdout, written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// started is a command running in the background through runner.run.
type started struct {
	addr   string
	out    *lockedBuffer
	cancel context.CancelFunc
	done   chan error
}

// start runs args the way main does and waits until the listener is bound.
// The command is stopped at cleanup if the test did not stop it.
func start(t testing.TB, env map[string]string, args ...string) *started {
	t.Helper()
	if _, ok := env["DISPATCH_DATA_DIR"]; !ok {
		// Keep the embedded database out of the source tree.
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		env["DISPATCH_DATA_DIR"] = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	s := &started{out: &lockedBuffer{}, cancel: cancel, done: make(chan error, 1)}
	r := runner{
		getenv: envMap(env),
		stdout: s.out,
		ready:  func(a net.Addr) { addrs <- a.String() },
	}
	go func() { s.done <- r.run(ctx, append([]string{"dispatchd"}, args...)) }()
	t.Cleanup(func() { s.stop(t) })

	select {
	case s.addr = <-addrs:
	case err := <-s.done:
		s.done <- err // keep it for stop
		require.FailNow(t, "command exited before listening", "err: %v\noutput:\n%s", err, s.out)
	case <-time.After(waitTimeout):
		require.FailNow(t, "command did not start listening", "output:\n%s", s.out)
	}
	return s
}

// stop cancels the command's context and returns what run returned.
func (s *started) stop(t testing.TB) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // stop is idempotent
		return err
	case <-time.After(waitTimeout):
		require.FailNow(t, "command did not stop", "output:\n%s", s.out)
		return nil
	}
}

// get fetches url with a client whose connections are closed afterwards, so
// no keep-alive goroutine outlives the test.
func get(t testing.TB, url string) (int, string) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServe(t *testing.T) {
	s := start(t, nil, "serve", "--addr", "127.0.0.1:0")

	code, body := get(t, "http://"+s.addr+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"status":"ok"}`, body)

	code, body = get(t, "http://"+s.addr+"/readyz")
	assert.Equal(t, http.StatusOK, code)
	var ready struct {
		Status string
		Build  struct{ Version, GoVersion string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ready), body)
	assert.Equal(t, "ready", ready.Status)
	assert.Equal(t, buildinfo.Read().Version, ready.Build.Version)
	assert.Equal(t, runtime.Version(), ready.Build.GoVersion)

	_, body = get(t, "http://"+s.addr+"/metrics")
	assert.Contains(t, body, `dispatchd_build_info{go_version="`+runtime.Version()+`"`)

	code, _ = get(t, "http://"+s.addr+"/nowhere")
	assert.Equal(t, http.StatusNotFound, code)

	require.NoError(t, s.stop(t))
	out := s.out.String()
	assert.Contains(t, out, `"msg":"listening"`)
	assert.Contains(t, out, s.addr)
	// The start-up line names the build, the storage, NATS, the data dir
	// and the console.
	var startup map[string]any
	for line := range strings.Lines(out) {
		if strings.Contains(line, `"msg":"starting"`) {
			require.NoError(t, json.Unmarshal([]byte(line), &startup), line)
		}
	}
	require.NotNil(t, startup, "a start-up line")
	assert.Equal(t, runtime.Version(), startup["go_version"])
	assert.Contains(t, startup["storage"], "sqlite ")
	assert.Contains(t, startup["storage"], "dispatchd.db")
	assert.Contains(t, startup["nats"], "embedded ")
	assert.NotEmpty(t, startup["data_dir"])
	assert.Equal(t, "http://"+s.addr+"/console/", startup["console"])
	assert.Contains(t, out, "development secret", "an unset JWT secret must be warned about")
	assert.Contains(t, out, `"msg":"stopped"`)
}

func TestServeDefaultCommand(t *testing.T) {
	s := start(t, map[string]string{
		"DISPATCH_ADDR":       "127.0.0.1:0",
		"DISPATCH_JWT_SECRET": strings.Repeat("k", 32),
		"DISPATCH_LOG_FORMAT": "console",
	})
	code, _ := get(t, "http://"+s.addr+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	require.NoError(t, s.stop(t))
	assert.NotContains(t, s.out.String(), "development secret")
}

// TestServePing speaks Socket.IO over a real websocket to the main namespace.
func TestServePing(t *testing.T) {
	s := start(t, nil, "--addr", "127.0.0.1:0")

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, _, err := sioclient.DialRaw(ctx, "ws://"+s.addr+"/socket.io/?EIO=4&transport=websocket", sioclient.RawOptions{})
	require.NoError(t, err)
	defer ws.Close()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(waitTimeout)))

	// read returns the next packet that is not an Engine.IO heartbeat.
	read := func() string {
		t.Helper()
		for {
			_, p, err := ws.ReadMessage()
			require.NoError(t, err)
			if string(p) != "2" {
				return string(p)
			}
			require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte("3")))
		}
	}
	write := func(p string) {
		t.Helper()
		require.NoError(t, ws.WriteMessage(sioclient.OpText, []byte(p)))
	}

	open := read()
	require.True(t, strings.HasPrefix(open, "0{"), "open packet: %q", open)
	var hs struct {
		SID          string `json:"sid"`
		PingInterval int    `json:"pingInterval"`
	}
	require.NoError(t, json.Unmarshal([]byte(open[1:]), &hs))
	assert.NotEmpty(t, hs.SID)
	assert.Equal(t, 25000, hs.PingInterval)

	write("40")
	connect := read()
	require.True(t, strings.HasPrefix(connect, "40{"), "connect reply: %q", connect)

	write(`421["ping"]`)
	assert.Equal(t, `431["pong"]`, read())

	write(`42["ping"]`) // no ack requested: no reply, the socket stays up
	write(`427["ping","extra"]`)
	assert.Equal(t, `437["pong"]`, read())

	require.NoError(t, s.stop(t))
}

func TestRunCommands(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // empty: success
		wantOut string
	}{
		{name: "version", args: []string{"version"}, wantOut: "dispatchd "},
		{name: "serve help", args: []string{"serve", "-h"}, wantOut: "-addr"},
		{name: "help lists flags", args: []string{"-h"}, wantOut: "-database-url"},
		{name: "--help lists commands", args: []string{"--help"}, wantOut: "\n  health       probe the running server's /healthz"},
		{name: "help lists commands", args: []string{"help"}, wantOut: "\n  tenant       manage the tenant registry"},
		{name: "help names serve's flags", args: []string{"help"}, wantOut: "-data-dir"},
		{name: "help COMMAND", args: []string{"help", "health"}, wantOut: "-timeout"},
		{name: "help tenant", args: []string{"help", "tenant"}, wantOut: "usage: dispatchd tenant"},
		{name: "version names Go", args: []string{"version"}, wantOut: " " + runtime.Version() + "\n"},
		{name: "version takes no argument", args: []string{"version", "x"}, wantErr: "unexpected arguments"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined"},
		{name: "stray argument", args: []string{"serve", "extra"}, wantErr: "unexpected arguments"},
		{name: "invalid config", env: map[string]string{"DISPATCH_LOG_LEVEL": "loud"}, wantErr: "log.level"},
		{name: "bad listen address", args: []string{"--addr", "127.0.0.1:99999"}, wantErr: "listen on 127.0.0.1:99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &lockedBuffer{}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			// serve locks (and creates) the data dir before it binds:
			// keep it out of the source tree.
			env := map[string]string{"DISPATCH_DATA_DIR": t.TempDir()}
			maps.Copy(env, tt.env)
			err := run(ctx, append([]string{"dispatchd"}, tt.args...), envMap(env), out)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, out.String(), tt.wantOut)
		})
	}
}

// TestServeDrainsLongPoll checks that a pending long-poll GET, which
// http.Server.Shutdown alone would wait for until the next heartbeat, does
// not hold up the shutdown.
func TestServeDrainsLongPoll(t *testing.T) {
	s := start(t, map[string]string{"DISPATCH_PING_INTERVAL": "1m"}, "--addr", "127.0.0.1:0")
	base := "http://" + s.addr + "/socket.io/?EIO=4&transport=polling"

	code, body := get(t, base)
	require.Equal(t, http.StatusOK, code)
	var hs struct {
		SID string `json:"sid"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(body, "0")), &hs))
	require.NotEmpty(t, hs.SID)

	polled := make(chan struct{})
	go func() {
		defer close(polled)
		// Blocks until the server has something to send: here, the close.
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: waitTimeout}).Get(base + "&sid=" + hs.SID)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	// Give the poll time to reach the server; if it has not, the test still
	// passes, it just checks less.
	select {
	case <-polled:
		require.FailNow(t, "poll returned before shutdown")
	case <-time.After(200 * time.Millisecond):
	}

	began := time.Now()
	require.NoError(t, s.stop(t))
	assert.Less(t, time.Since(began), 5*time.Second, "drain waited for the long poll")
	select {
	case <-polled:
	case <-time.After(waitTimeout):
		require.FailNow(t, "long poll still pending after shutdown")
	}
}

// TestServePprof: the profiler answers on its own address only.
func TestServePprof(t *testing.T) {
	s := start(t, map[string]string{"DISPATCH_PPROF_ADDR": "127.0.0.1:0"}, "serve", "--addr", "127.0.0.1:0")
	code, _ := get(t, "http://"+s.addr+"/debug/pprof/")
	assert.Equal(t, http.StatusNotFound, code, "not on the service's port")
	require.NoError(t, s.stop(t))
	assert.Contains(t, s.out.String(), "profiler listening")
}

// TestServeConsole: the board's page, its modules and the vendored
// socket.io-client are served under /console/.
func TestServeConsole(t *testing.T) {
	s := start(t, nil, "serve", "--addr", "127.0.0.1:0")
	code, body := get(t, "http://"+s.addr+"/console/")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<script type="module" src="app.js">`)
	assert.Contains(t, body, `src="vendor/socket.io/socket.io.min.js"`)
	for file, want := range map[string]string{
		"app.js": `from "./board.js"`, "board.js": "export class Board", "view.js": "export function renderOrders",
		"detail.js": "export class Detail", "developer.js": "export class Developer", "board.css": "#orders",
		"vendor/socket.io/socket.io.min.js": "",
	} {
		code, body = get(t, "http://"+s.addr+"/console/"+file)
		assert.Equal(t, http.StatusOK, code, file)
		assert.Contains(t, body, want, file)
	}
	code, _ = get(t, "http://"+s.addr+"/console/nothing-here")
	assert.Equal(t, http.StatusNotFound, code)
}

// TestHelpNamesRealCommands keeps the help list and the dispatcher in step:
// every listed command runs (its -h), none is unknown.
func TestHelpNamesRealCommands(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			err := run(context.Background(), []string{"dispatchd", "help", c.name}, envMap(nil), &lockedBuffer{})
			if err != nil {
				require.NotContains(t, err.Error(), "unknown command")
			}
		})
	}
}
