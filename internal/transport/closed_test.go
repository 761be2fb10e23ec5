package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// observedServer is startServer with the logs kept for the test to read.
func observedServer(t *testing.T, setup func(*Server)) (*Server, string, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	srv := NewServer(Config{Config: engineio.Config{PingInterval: 5 * time.Second, PingTimeout: 5 * time.Second}}, zap.New(core))
	setup(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		hs.Close()
	})
	return srv, hs.URL, logs
}

// poller is a bare long-polling client on one session.
type poller struct {
	t *testing.T
	u string
}

func newPoller(t *testing.T, url string) *poller {
	return &poller{t: t, u: url + "/socket.io/?EIO=4&transport=polling&sid=" + pollingHandshake(t, url)}
}

func (p *poller) do(method, body string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.u, strings.NewReader(body))
	require.NoError(p.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.t, err)
	return resp.StatusCode, string(b)
}

// TestClosedPollingSessionCannotConnect: after the client's close, a
// CONNECT on the same sid is refused with 400 and creates no socket (it
// created one that nothing would ever release: it escaped the connection
// limits and held its tenant's socket quota for good).
func TestClosedPollingSessionCannotConnect(t *testing.T) {
	var connections atomic.Int64
	var ns *Namespace
	srv, url, _ := observedServer(t, func(srv *Server) {
		ns = srv.Of("/")
		ns.OnConnection(func(*Socket) { connections.Add(1) })
	})
	p := newPoller(t, url)
	status, _ := p.do("POST", "40")
	require.Equal(t, http.StatusOK, status)
	_, body := p.do("GET", "")
	require.Contains(t, body, `40{"sid":`)
	status, _ = p.do("POST", "1")
	require.Equal(t, http.StatusOK, status)
	require.Eventually(t, func() bool { return ns.Sockets() == 0 }, 2*time.Second, 5*time.Millisecond)

	status, body = p.do("POST", "40")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.JSONEq(t, `{"code":1,"message":"Session ID unknown"}`, body)
	status, _ = p.do("POST", `42["x"]`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, int64(1), connections.Load(), "OnConnection on a closed session")
	assert.Zero(t, ns.Sockets())
	_, body = p.do("GET", "")
	assert.Equal(t, "6", body, "the GET that learns of the client's close")
	assert.Zero(t, srv.Sessions())
}

// TestConnectOnDeadConnIsRefused: a session that ends while its CONNECT
// is in the middleware gets no namespace socket, OnConnection never runs,
// and what the middleware took is given back by its OnDisconnect (the
// socket was added after the session's cleanup had run, and nothing
// released it: with a per-tenant socket quota, the tenant's slot stayed
// taken for good).
func TestConnectOnDeadConnIsRefused(t *testing.T) {
	var connections atomic.Int64
	var ns *Namespace
	released := make(chan string, 2)
	srv, url, logs := observedServer(t, func(srv *Server) {
		ns = srv.Of("/")
		ns.Use(func(s *Socket) error {
			s.OnDisconnect(func(reason string) { released <- reason })
			// The session ends meanwhile, e.g. the client went away.
			s.Conn().Close(engineio.ReasonTransportClose)
			time.Sleep(20 * time.Millisecond) // time for the session's cleanup to run
			return nil
		})
		ns.OnConnection(func(*Socket) { connections.Add(1) })
	})
	c := dial(t, url)
	c.send("40")
	c.closed()
	require.Eventually(t, func() bool { return srv.Sessions() == 0 }, 2*time.Second, 5*time.Millisecond)
	time.Sleep(30 * time.Millisecond) // give a leaked socket's cleanup time to (not) run
	assert.Zero(t, ns.Sockets(), "namespace socket outlived its session")
	assert.Zero(t, connections.Load(), "OnConnection ran on a dead session")
	assert.Equal(t, 1, logs.FilterMessage("connect on a closed session dropped").Len())
	select {
	case r := <-released:
		assert.Equal(t, engineio.ReasonTransportClose, r)
	default:
		t.Fatal("the middleware's OnDisconnect never ran")
	}
	assert.Empty(t, released, "OnDisconnect ran twice")
}

// TestBadPacketsLogOnce: one POST of many bad Socket.IO packets closes
// the session on the first, logs once, and nothing behind it is handled
// (one 900 kB body wrote 150,000 warnings).
func TestBadPacketsLogOnce(t *testing.T) {
	var events atomic.Int64
	_, url, logs := observedServer(t, func(srv *Server) {
		srv.Of("/").On("ev", func(*Socket, *Message, Ack) { events.Add(1) })
	})
	p := newPoller(t, url)
	body := "40\x1e4x" + strings.Repeat("\x1e42[\"ev\"]\x1e4x", 5000)
	status, _ := p.do("POST", body)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, 1, logs.FilterMessage("closing session on protocol violation").Len())
	assert.Zero(t, events.Load(), "event handled behind the packet that ended the session")
}
