package conformance_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/conformance"
)

// Go port of the official Engine.IO v4 test suite
// (socketio/socket.io docs/engine.io-protocol/v4-test-suite/test-suite.js).
// Each Test function is one `describe` block; subtests carry the suite's case
// names. Cases that the Socket.IO v5 suite repeats on /socket.io/ are written
// once here, parameterized by path, and reused by socketio_test.go.

// pingGrace is how much earlier than pingInterval+pingTimeout a client may see
// a silent session end: its clock starts before the server's.
const pingGrace = 50 * time.Millisecond

// promptly bounds how long the server may take to drop a session it must
// close at once; it is shorter than the heartbeat window, so a server that
// ignores the packet and lets the ping time out fails.
const promptly = conformance.PingInterval

// suiteCase is one `it` of a suite, run against a fresh fixture on path.
type suiteCase struct {
	name string
	run  func(t *testing.T, s *server, path string)
}

func runCases(t *testing.T, path string, cases []suiteCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, startServer(t), path)
		})
	}
}

func TestEngineIOHandshakePolling(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"successfully opens a session", opensPollingSession},
		{"fails with an invalid 'EIO' query parameter",
			refusesPolling(http.MethodGet, "transport=polling", "EIO=abc&transport=polling")},
		{"fails with an invalid 'transport' query parameter",
			refusesPolling(http.MethodGet, "EIO=4", "EIO=4&transport=abc")},
		{"fails with an invalid request method", func(t *testing.T, s *server, path string) {
			refusesPolling(http.MethodPost, "EIO=4&transport=polling")(t, s, path)
			refusesPolling(http.MethodPut, "EIO=4&transport=polling")(t, s, path)
		}},
	})
}

func TestEngineIOHandshakeWebSocket(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"successfully opens a session", opensWebSocketSession},
		{"fails with an invalid 'EIO' query parameter",
			refusesWebSocket("transport=websocket", "EIO=abc&transport=websocket")},
		{"fails with an invalid 'transport' query parameter",
			refusesWebSocket("EIO=4", "EIO=4&transport=abc")},
	})
}

func TestEngineIOMessagePolling(t *testing.T) {
	echoes := []struct {
		name string
		body string
	}{
		{"sends and receives a payload containing one plain text packet", "4hello"},
		{"sends and receives a payload containing several plain text packets", "4test1\x1e4test2\x1e4test3"},
		{"sends and receives a payload containing plain text and binary packets", "4hello\x1ebAQIDBA=="},
	}
	var cases []suiteCase
	for _, e := range echoes {
		cases = append(cases, suiteCase{e.name, func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)

			push := s.request(http.MethodPost, s.pollURL(path, sid), e.body)
			require.Equal(t, http.StatusOK, push.status, "POST body %q", push.body)
			assert.Equal(t, "ok", push.body)

			poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
			require.Equal(t, http.StatusOK, poll.status, "GET body %q", poll.body)
			assert.Equal(t, e.body, poll.body)
		}})
	}
	cases = append(cases,
		suiteCase{"closes the session upon invalid packet format", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)

			// The JS suite's check of this reply sits in a try block that also
			// swallows its assertion error, and Node answers 200 "ok": any
			// answer, or an aborted connection, is accepted. Only the session
			// state that follows is checked.
			ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
			defer cancel()
			if push, err := s.do(ctx, http.MethodPost, s.pollURL(path, sid), "abc"); err == nil {
				assert.Contains(t, []int{http.StatusOK, http.StatusBadRequest}, push.status, "POST body %q", push.body)
			}

			poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
			assert.Equal(t, http.StatusBadRequest, poll.status, "GET body %q", poll.body)
		}},
		suiteCase{"closes the session upon duplicate poll requests", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)

			first := s.start(http.MethodGet, s.pollURL(path, sid), "")
			second := s.start(http.MethodGet, s.pollURL(path, sid)+"&t=burst", "")

			r1, err := first.wait(t)
			require.NoError(t, err, "first GET")
			r2, err := second.wait(t)
			require.NoError(t, err, "second GET")
			// The suite spaces the GETs 5ms apart to fix which one the server
			// holds; a client cannot see when the server has taken the first,
			// so either order passes: the held GET ends with a close packet
			// and the other one is refused.
			held, refused := r1, r2
			if r1.status != http.StatusOK {
				held, refused = r2, r1
			}
			assert.Equal(t, response{status: http.StatusOK, body: "1"}, held,
				"the held GET must end with a close packet")
			// Node answers 500; 400 is what the protocol text asks for.
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusInternalServerError}, refused.status,
				"duplicate GET body %q", refused.body)

			poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
			assert.Equal(t, http.StatusBadRequest, poll.status, "GET body %q", poll.body)
		}},
		suiteCase{"closes the session upon cancelled polling request", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)

			held := s.start(http.MethodGet, s.pollURL(path, sid), "")
			held.cancel()
			_, err := held.wait(t)
			require.Error(t, err, "the cancelled GET must not complete")

			poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
			if poll.status == http.StatusOK {
				// The server may run this GET's handler before it has even
				// read the cancelled one (two connections, no ordering);
				// the cancelled GET then counts as a duplicate and this
				// one, held, ends with the close packet. Either way the
				// session must be gone now.
				assert.Equal(t, "1", poll.body)
				poll = s.request(http.MethodGet, s.pollURL(path, sid), "")
			}
			assert.Equal(t, http.StatusBadRequest, poll.status, "GET body %q", poll.body)
		}},
	)
	runCases(t, conformance.EngineIOPath, cases)
}

func TestEngineIOMessageWebSocket(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"sends and receives a plain text packet", func(t *testing.T, s *server, path string) {
			c, _ := s.openWS(path)
			c.send("4hello")
			c.expect(text("4hello"))
		}},
		{"sends and receives a binary packet", func(t *testing.T, s *server, path string) {
			c, _ := s.openWS(path)
			c.sendBinary(1, 2, 3, 4)
			c.expect(binary(1, 2, 3, 4))
		}},
		{"closes the session upon invalid packet format", func(t *testing.T, s *server, path string) {
			c, _ := s.openWS(path)
			c.send("abc")
			c.waitClosed(promptly)
		}},
	})
}

func TestEngineIOHeartbeatPolling(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"sends ping/pong packets", sendsPingPongPolling},
		{"closes the session upon ping timeout", closesOnPingTimeoutPolling},
	})
}

func TestEngineIOHeartbeatWebSocket(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"sends ping/pong packets", sendsPingPongWebSocket},
		{"closes the session upon ping timeout", closesOnPingTimeoutWebSocket},
	})
}

func TestEngineIOClosePolling(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"forcefully closes the session", forcefullyClosesPolling},
	})
}

func TestEngineIOCloseWebSocket(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"forcefully closes the session", forcefullyClosesWebSocket},
	})
}

func TestEngineIOUpgrade(t *testing.T) {
	runCases(t, conformance.EngineIOPath, []suiteCase{
		{"successfully upgrades from HTTP long-polling to WebSocket", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			c := s.probe(path, sid)

			poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
			require.Equal(t, http.StatusOK, poll.status, "GET body %q", poll.body)
			assert.Equal(t, "6", poll.body, "a poll during the upgrade is released with a noop")

			c.send("5")
			c.send("4hello")
			c.expect(text("4hello"))
		}},
		{"ignores HTTP requests with same sid after upgrade", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			c := s.probe(path, sid)
			c.send("5")
			// Sent right behind the upgrade packet, as the suite does: the
			// server must not answer it as a poll of the upgrading session.
			poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
			assert.Equal(t, http.StatusBadRequest, poll.status, "GET body %q", poll.body)

			c.send("4hello")
			c.expect(text("4hello"))
		}},
		{"ignores WebSocket connection with same sid after upgrade", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			c := s.probe(path, sid)
			c.send("5")

			s.requireWebSocketDropped(path, "EIO=4&transport=websocket&sid="+sid)

			c.send("4hello")
			c.expect(text("4hello"))
		}},
	})
}

// probe opens the upgrade WebSocket of polling session sid and completes the
// probe exchange on it.
func (s *server) probe(path, sid string) *wsClient {
	s.t.Helper()
	c := s.dialWS(path, "EIO=4&transport=websocket&sid="+sid)
	c.send("2probe")
	assert.Equal(s.t, "3probe", c.nextText(caseTimeout))
	return c
}

// Cases shared with the Engine.IO part of the Socket.IO suite.

func opensPollingSession(t *testing.T, s *server, path string) {
	s.openPolling(path)
}

func opensWebSocketSession(t *testing.T, s *server, path string) {
	s.openWS(path)
}

func refusesPolling(method string, queries ...string) func(*testing.T, *server, string) {
	return func(t *testing.T, s *server, path string) {
		for _, q := range queries {
			r := s.request(method, s.url(path, q), "")
			assert.Equal(t, http.StatusBadRequest, r.status, "%s ?%s: body %q", method, q, r.body)
		}
	}
}

func refusesWebSocket(queries ...string) func(*testing.T, *server, string) {
	return func(t *testing.T, s *server, path string) {
		for _, q := range queries {
			s.requireWebSocketRefused(path, q)
		}
	}
}

// requireWebSocketRefused requires the server to refuse a WebSocket with a
// bad query: with an HTTP 400 instead of the upgrade (what Node does), or by
// closing it before it carries an Engine.IO packet.
func (s *server) requireWebSocketRefused(path, query string) {
	s.t.Helper()
	c, resp, err := s.tryDialWS(path, query)
	if err != nil {
		require.NotNil(s.t, resp, "?%s: %v", query, err)
		defer resp.Body.Close()
		assert.Equal(s.t, http.StatusBadRequest, resp.StatusCode, "?%s", query)
		return
	}
	c.waitClosed(caseTimeout)
	select {
	case f := <-c.frames:
		s.t.Errorf("?%s: refused WebSocket carried %s", query, f)
	default:
	}
}

// requireWebSocketDropped requires the server to accept a second WebSocket
// for a session and close it at once, carrying nothing. Node does so, and the
// suites attach no error handler here: an HTTP error instead of the upgrade
// is an uncaught error in their ws client.
func (s *server) requireWebSocketDropped(path, query string) {
	s.t.Helper()
	c, resp, err := s.tryDialWS(path, query)
	if err != nil {
		status := 0
		if resp != nil {
			defer resp.Body.Close()
			status = resp.StatusCode
		}
		s.t.Fatalf("?%s: upgrade refused (HTTP %d): %v; want 101 then a close", query, status, err)
	}
	c.waitClosed(caseTimeout)
	select {
	case f := <-c.frames:
		s.t.Errorf("?%s: dropped WebSocket carried %s", query, f)
	default:
	}
}

// A client gives the server up when no ping comes within pingInterval +
// pingTimeout of the previous one, so that bounds every wait for a ping.

func sendsPingPongPolling(t *testing.T, s *server, path string) {
	sid := s.openPolling(path)
	for i := range 3 {
		start := time.Now()
		poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
		require.Equal(t, http.StatusOK, poll.status, "ping %d: GET body %q", i, poll.body)
		require.Equal(t, "2", poll.body, "ping %d", i)
		assert.LessOrEqual(t, time.Since(start), heartbeatWindow+slack, "ping %d late", i)

		push := s.request(http.MethodPost, s.pollURL(path, sid), "3")
		require.Equal(t, http.StatusOK, push.status, "pong %d: POST body %q", i, push.body)
	}
}

func closesOnPingTimeoutPolling(t *testing.T, s *server, path string) {
	// The suite idles for pingInterval+pingTimeout and then expects a 400.
	// Here the client keeps polling without ever answering the ping, which
	// is the same silence to the server, and the session must be gone (400)
	// within that window plus slack. Replies before that may carry the ping,
	// a noop or a close packet.
	sid := s.openPolling(path)
	deadline := time.Now().Add(heartbeatWindow + slack)
	for {
		poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
		if poll.status == http.StatusBadRequest {
			break
		}
		require.Equal(t, http.StatusOK, poll.status, "GET body %q", poll.body)
		require.NotContains(t, poll.body, "4", "only Engine.IO control packets may arrive: %q", poll.body)
		require.True(t, time.Now().Before(deadline),
			"session alive %s after the handshake without a pong (last GET %q)", heartbeatWindow+slack, poll.body)
	}
	assert.False(t, time.Now().After(deadline), "session closed later than %s", heartbeatWindow+slack)
}

func sendsPingPongWebSocket(t *testing.T, s *server, path string) {
	c, _ := s.openWS(path)
	for i := range 3 {
		f := c.next(heartbeatWindow + slack)
		require.Equal(t, text("2"), f, "ping %d: got %s", i, f)
		c.send("3")
	}
}

func closesOnPingTimeoutWebSocket(t *testing.T, s *server, path string) {
	start := time.Now()
	c := s.dialWS(path, "EIO=4&transport=websocket")
	c.waitClosed(heartbeatWindow + slack)
	assert.GreaterOrEqual(t, time.Since(start), heartbeatWindow-pingGrace,
		"closed before the client had pingTimeout to answer the ping")
}

func forcefullyClosesPolling(t *testing.T, s *server, path string) {
	// The suite sends the GET and the POST together and relies on the
	// server taking the GET first. A client cannot see when the server holds
	// its GET, so when the POST overtakes it (the GET then finds no session)
	// the case is tried again on a new session.
	const attempts = 5
	for i := range attempts {
		sid := s.openPolling(path)

		held := s.start(http.MethodGet, s.pollURL(path, sid), "")
		s.request(http.MethodPost, s.pollURL(path, sid), "1")

		poll, err := held.wait(t)
		require.NoError(t, err, "held GET")
		if poll.status == http.StatusBadRequest && i < attempts-1 {
			t.Logf("attempt %d: the close overtook the GET (%q); retrying", i, poll.body)
			continue
		}
		assert.Equal(t, http.StatusOK, poll.status, "held GET body %q", poll.body)
		assert.Equal(t, "6", poll.body, "the held GET is released with a noop")

		after := s.request(http.MethodGet, s.pollURL(path, sid), "")
		assert.Equal(t, http.StatusBadRequest, after.status, "GET body %q", after.body)
		return
	}
}

func forcefullyClosesWebSocket(t *testing.T, s *server, path string) {
	c, _ := s.openWS(path)
	c.send("1")
	// Node ignores this packet and lets the ping time out; the protocol notes
	// ask us to close at once, which promptly enforces.
	c.waitClosed(promptly)
}
