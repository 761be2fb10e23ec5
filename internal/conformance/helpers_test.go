package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/conformance"
)

// Time budgets. The official suites run each case under mocha's default 2s;
// slack absorbs scheduling under -race on a busy machine.
const (
	caseTimeout = 2 * time.Second
	slack       = 500 * time.Millisecond
	// heartbeatWindow is how long a client waits for a ping before it gives
	// the server up (pingInterval + pingTimeout).
	heartbeatWindow = conformance.PingInterval + conformance.PingTimeout
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// server is one fixture behind a real loopback HTTP listener.
type server struct {
	t      testing.TB
	base   string // http://127.0.0.1:port
	client *http.Client
}

// startServer serves a fresh fixture for one test case and tears it down,
// sessions first, when the case ends.
func startServer(t testing.TB) *server {
	t.Helper()
	f := conformance.New(zaptest.NewLogger(t))
	hs := httptest.NewServer(f)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, f.Shutdown(ctx), "fixture shutdown")
		client.CloseIdleConnections()
		hs.Close()
	})
	return &server{t: t, base: hs.URL, client: client}
}

// url builds the address of a request to path ("/engine.io/" or
// "/socket.io/") with a raw query string.
func (s *server) url(path, query string) string {
	return s.base + path + "?" + query
}

func (s *server) wsURL(path, query string) string {
	return "ws" + strings.TrimPrefix(s.url(path, query), "http")
}

// response is what a test needs from an HTTP reply.
type response struct {
	status int
	body   string
}

// do sends one request and reads the whole reply.
func (s *server) do(ctx context.Context, method, url, body string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, body: string(b)}, nil
}

// request is do with a case-sized deadline; transport errors fail the test.
func (s *server) request(method, url, body string) response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	r, err := s.do(ctx, method, url, body)
	require.NoError(s.t, err, "%s %s", method, url)
	return r
}

// inFlight is a request running in its own goroutine.
type inFlight struct {
	done   chan struct{}
	resp   response
	err    error
	cancel context.CancelFunc
}

// start sends a request in the background and returns once its bytes are on
// the wire, so a request sent afterwards reaches the server second.
func (s *server) start(method, url, body string) *inFlight {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	wrote := make(chan struct{})
	var once sync.Once
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(func() { close(wrote) }) },
	})
	f := &inFlight{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(f.done)
		f.resp, f.err = s.do(ctx, method, url, body)
	}()
	s.t.Cleanup(func() {
		cancel()
		<-f.done
	})
	select {
	case <-wrote:
	case <-f.done:
	case <-time.After(caseTimeout):
		s.t.Fatalf("%s %s: request not sent within %s", method, url, caseTimeout)
	}
	return f
}

// wait returns the reply of a background request.
func (f *inFlight) wait(t testing.TB) (response, error) {
	t.Helper()
	select {
	case <-f.done:
		return f.resp, f.err
	case <-time.After(caseTimeout + slack):
		t.Fatalf("background request still running after %s", caseTimeout+slack)
		return response{}, nil
	}
}

// handshake is the JSON of an Engine.IO open packet.
type handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// requireHandshake checks an open packet exactly as the suites do: it starts
// with "0", holds exactly the five keys, and carries the suite's settings.
func requireHandshake(t testing.TB, packet string, upgrades []string) handshake {
	t.Helper()
	require.True(t, strings.HasPrefix(packet, "0"), "open packet %q", packet)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(packet[1:]), &keys), "open packet %q", packet)
	got := make([]string, 0, len(keys))
	for k := range keys {
		got = append(got, k)
	}
	assert.ElementsMatch(t, []string{"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}, got)

	var hs handshake
	require.NoError(t, json.Unmarshal([]byte(packet[1:]), &hs), "open packet %q", packet)
	var sid string
	require.NoError(t, json.Unmarshal(keys["sid"], &sid), "sid must be a string")
	require.NotEmpty(t, hs.SID)
	assert.Equal(t, upgrades, hs.Upgrades)
	assert.Equal(t, int(conformance.PingInterval/time.Millisecond), hs.PingInterval)
	assert.Equal(t, int(conformance.PingTimeout/time.Millisecond), hs.PingTimeout)
	assert.Equal(t, conformance.MaxPayload, hs.MaxPayload)
	return hs
}

// openPolling opens a long-polling session on path and returns its sid.
func (s *server) openPolling(path string) string {
	s.t.Helper()
	r := s.request(http.MethodGet, s.url(path, "EIO=4&transport=polling"), "")
	require.Equal(s.t, http.StatusOK, r.status, "handshake body %q", r.body)
	return requireHandshake(s.t, r.body, []string{"websocket"}).SID
}

// pollURL is the address of the polling requests of session sid.
func (s *server) pollURL(path, sid string) string {
	return s.url(path, "EIO=4&transport=polling&sid="+sid)
}

// openWS opens a WebSocket-only Engine.IO session on path and consumes the
// open packet.
func (s *server) openWS(path string) (*wsClient, handshake) {
	s.t.Helper()
	c := s.dialWS(path, "EIO=4&transport=websocket")
	return c, requireHandshake(s.t, c.nextText(caseTimeout), []string{})
}

// connectSocketIO is the suite's initSocketIOConnection: a WebSocket session
// joined to "/" with the "auth" event consumed.
func (s *server) connectSocketIO() *wsClient {
	s.t.Helper()
	c, _ := s.openWS(conformance.SocketIOPath)
	c.send("40")
	requireConnect(s.t, c.nextSkippingPings(caseTimeout), "")
	c.expect(text(`42["auth",{}]`))
	return c
}

// requireConnect checks a CONNECT reply for namespace nsp ("" for "/"): its
// payload is an object with exactly one key, a string "sid".
func requireConnect(t testing.TB, f frame, nsp string) {
	t.Helper()
	require.False(t, f.binary, "want CONNECT, got %s", f)
	prefix := "40"
	if nsp != "" {
		prefix += nsp + ","
	}
	require.True(t, bytes.HasPrefix(f.data, []byte(prefix)), "want %s…, got %s", prefix, f)
	var payload map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(f.data[len(prefix):], &payload), "CONNECT payload of %s", f)
	require.Len(t, payload, 1, "CONNECT payload keys of %s", f)
	var sid string
	require.NoError(t, json.Unmarshal(payload["sid"], &sid), "sid of %s must be a string", f)
	assert.NotEmpty(t, sid)
}
