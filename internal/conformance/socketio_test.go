package conformance_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/conformance"
)

// Go port of the official Socket.IO v5 test suite
// (socketio/socket.io docs/socket.io-protocol/v5-test-suite/test-suite.js).
// Its first half repeats Engine.IO cases on /socket.io/ (shared code in
// engineio_test.go); the second half tests the Socket.IO layer over
// WebSocket. Tests named TestSocketIOExtra… are not in the official suite.

func TestSocketIOEngineIOHandshakePolling(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should successfully open a session", opensPollingSession},
		{"should fail with an invalid 'EIO' query parameter",
			refusesPolling(http.MethodGet, "transport=polling", "EIO=abc&transport=polling")},
		{"should fail with an invalid 'transport' query parameter",
			refusesPolling(http.MethodGet, "EIO=4", "EIO=4&transport=abc")},
		{"should fail with an invalid request method", func(t *testing.T, s *server, path string) {
			refusesPolling(http.MethodPost, "EIO=4&transport=polling")(t, s, path)
			refusesPolling(http.MethodPut, "EIO=4&transport=polling")(t, s, path)
		}},
	})
}

func TestSocketIOEngineIOHandshakeWebSocket(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should successfully open a session", opensWebSocketSession},
		{"should fail with an invalid 'EIO' query parameter",
			refusesWebSocket("transport=websocket", "EIO=abc&transport=websocket")},
		{"should fail with an invalid 'transport' query parameter",
			refusesWebSocket("EIO=4", "EIO=4&transport=abc")},
	})
}

func TestSocketIOEngineIOHeartbeatPolling(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should send ping/pong packets", sendsPingPongPolling},
		{"should close the session upon ping timeout", closesOnPingTimeoutPolling},
	})
}

func TestSocketIOEngineIOHeartbeatWebSocket(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should send ping/pong packets", sendsPingPongWebSocket},
		{"should close the session upon ping timeout", closesOnPingTimeoutWebSocket},
	})
}

func TestSocketIOEngineIOClosePolling(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should forcefully close the session", forcefullyClosesPolling},
	})
}

func TestSocketIOEngineIOCloseWebSocket(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should forcefully close the session", forcefullyClosesWebSocket},
	})
}

func TestSocketIOEngineIOUpgrade(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should successfully upgrade from HTTP long-polling to WebSocket", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			c := s.probe(path, sid)
			c.send("5")
			// Beyond the suite: the upgraded session carries Socket.IO.
			c.send("40")
			requireConnect(t, c.nextSkippingPings(caseTimeout), "")
			c.expect(text(`42["auth",{}]`))
		}},
		{"should ignore HTTP requests with same sid after upgrade", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			c := s.dialWS(path, "EIO=4&transport=websocket&sid="+sid)
			// The suite sends the upgrade right behind the probe, and the GET
			// right behind both.
			c.send("2probe")
			c.send("5")

			poll := s.request(http.MethodGet, s.pollURL(path, sid), "")
			assert.Equal(t, http.StatusBadRequest, poll.status, "GET body %q", poll.body)

			assert.Equal(t, "3probe", c.nextText(caseTimeout))
			c.send("40")
			requireConnect(t, c.nextSkippingPings(caseTimeout), "")
			c.expect(text(`42["auth",{}]`))
		}},
		{"should ignore WebSocket connection with same sid after upgrade", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			c := s.dialWS(path, "EIO=4&transport=websocket&sid="+sid)
			c.send("2probe")
			c.send("5")

			s.requireWebSocketDropped(path, "EIO=4&transport=websocket&sid="+sid)
		}},
	})
}

func TestSocketIOConnect(t *testing.T) {
	accepted := []struct {
		name     string
		connect  string
		nsp      string
		wantAuth string
	}{
		{"should allow connection to the main namespace", "40", "", `42["auth",{}]`},
		{"should allow connection to the main namespace with a payload",
			`40{"token":"123"}`, "", `42["auth",{"token":"123"}]`},
		{"should allow connection to a custom namespace", "40/custom,", "/custom", `42/custom,["auth",{}]`},
		{"should allow connection to a custom namespace with a payload",
			`40/custom,{"token":"abc"}`, "/custom", `42/custom,["auth",{"token":"abc"}]`},
	}
	var cases []suiteCase
	for _, a := range accepted {
		cases = append(cases, suiteCase{a.name, func(t *testing.T, s *server, path string) {
			c, _ := s.openWS(path)
			c.send(a.connect)
			requireConnect(t, c.nextSkippingPings(caseTimeout), a.nsp)
			c.expect(text(a.wantAuth))
		}})
	}
	cases = append(cases,
		suiteCase{"should disallow connection to an unknown namespace", func(t *testing.T, s *server, path string) {
			c, _ := s.openWS(path)
			c.send("40/random")
			c.expect(text(`44/random,{"message":"Invalid namespace"}`))
		}},
		suiteCase{"should disallow connection with an invalid handshake", func(t *testing.T, s *server, path string) {
			c, _ := s.openWS(path)
			c.send("4abc")
			c.waitClosed(promptly)
		}},
		suiteCase{"should close the connection if no handshake is received", func(t *testing.T, s *server, path string) {
			// Like the suite, this client does not answer pings either, so the
			// ping timeout may be what closes it; see
			// TestSocketIOExtraConnectTimeout for connectTimeout alone.
			c := s.dialWS(path, "EIO=4&transport=websocket")
			c.waitClosed(caseTimeout)
		}},
	)
	runCases(t, conformance.SocketIOPath, cases)
}

func TestSocketIODisconnect(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"should disconnect from the main namespace", func(t *testing.T, s *server, path string) {
			c := s.connectSocketIO()
			c.send("41")
			// Nothing answers a client DISCONNECT; the session stays up, so the
			// next frame is the heartbeat.
			f := c.next(heartbeatWindow + slack)
			assert.Equal(t, text("2"), f, "got %s", f)
		}},
		{"should connect then disconnect from a custom namespace", func(t *testing.T, s *server, path string) {
			c := s.connectSocketIO()
			f := c.next(heartbeatWindow + slack)
			require.Equal(t, text("2"), f, "want the ping, got %s", f)
			// The suite leaves this ping unanswered and races the ping timeout.
			c.send("3")

			c.send("40/custom")
			requireConnect(t, c.nextSkippingPings(caseTimeout), "/custom")
			c.expect(text(`42/custom,["auth",{}]`))

			c.send("41/custom")
			c.send(`42["message","message to main namespace"]`)
			c.expect(text(`42["message-back","message to main namespace"]`))
		}},
	})
}

func TestSocketIOMessage(t *testing.T) {
	const twoPlaceholders = `{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}`
	echoes := []struct {
		name string
		send []frame
		want []frame
	}{
		{
			name: "should send a plain-text packet",
			send: []frame{text(`42["message",1,"2",{"3":[true]}]`)},
			want: []frame{text(`42["message-back",1,"2",{"3":[true]}]`)},
		},
		{
			name: "should send a packet with binary attachments",
			send: []frame{text(`452-["message",` + twoPlaceholders + `]`), binary(1, 2, 3), binary(4, 5, 6)},
			want: []frame{text(`452-["message-back",` + twoPlaceholders + `]`), binary(1, 2, 3), binary(4, 5, 6)},
		},
		{
			name: "should send a plain-text packet with an ack",
			send: []frame{text(`42456["message-with-ack",1,"2",{"3":[false]}]`)},
			want: []frame{text(`43456[1,"2",{"3":[false]}]`)},
		},
		{
			name: "should send a packet with binary attachments and an ack",
			send: []frame{text(`452-789["message-with-ack",` + twoPlaceholders + `]`), binary(1, 2, 3), binary(4, 5, 6)},
			want: []frame{text(`462-789[` + twoPlaceholders + `]`), binary(1, 2, 3), binary(4, 5, 6)},
		},
	}
	invalid := []struct {
		name   string
		packet string
	}{
		{"should close the connection upon invalid format (unknown packet type)", "4abc"},
		{"should close the connection upon invalid format (invalid payload format)", "42{}"},
		{"should close the connection upon invalid format (invalid ack id)", `42abc["message-with-ack",1,"2",{"3":[false]}]`},
	}

	var cases []suiteCase
	for _, e := range echoes {
		cases = append(cases, suiteCase{e.name, func(t *testing.T, s *server, path string) {
			c := s.connectSocketIO()
			for _, f := range e.send {
				if f.binary {
					c.sendBinary(f.data...)
				} else {
					c.send(string(f.data))
				}
			}
			c.expect(e.want...)
		}})
	}
	for _, in := range invalid {
		cases = append(cases, suiteCase{in.name, func(t *testing.T, s *server, path string) {
			c := s.connectSocketIO()
			c.send(in.packet)
			c.waitClosed(promptly)
		}})
	}
	runCases(t, conformance.SocketIOPath, cases)
}

// TestSocketIOExtraConnectTimeout checks connectTimeout on its own: a client
// that answers every ping but never sends CONNECT is dropped after it.
func TestSocketIOExtraConnectTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	start := time.Now()
	c, _ := s.openWS(conformance.SocketIOPath)
	deadline := time.After(conformance.ConnectTimeout + slack)
	for {
		select {
		case f := <-c.frames:
			require.Equal(t, text("2"), f, "only pings may arrive, got %s", f)
			c.send("3")
			continue
		case <-c.closed:
		case <-deadline:
			t.Fatalf("still open %s after the handshake", conformance.ConnectTimeout+slack)
		}
		break
	}
	assert.GreaterOrEqual(t, time.Since(start), conformance.ConnectTimeout-pingGrace,
		"closed before connectTimeout")
}

// TestSocketIOExtraPolling replays the polling wire examples of
// the shared SOCKETIO-PROTOCOL.md §5 (captured from socket.io 4.8.4).
func TestSocketIOExtraPolling(t *testing.T) {
	runCases(t, conformance.SocketIOPath, []suiteCase{
		{"connects with auth and answers an ack", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			s.push(path, sid, `40{"token":"abc"}`)
			got := s.pollPackets(path, sid, 2)
			requireConnect(t, text(got[0]), "")
			assert.Equal(t, `42["auth",{"token":"abc"}]`, got[1])

			s.push(path, sid, `4212["message-with-ack","hi"]`)
			assert.Equal(t, []string{`4312["hi"]`}, s.pollPackets(path, sid, 1))
		}},
		{"echoes a binary event", func(t *testing.T, s *server, path string) {
			sid := s.openPolling(path)
			s.push(path, sid, "40")
			got := s.pollPackets(path, sid, 2)
			requireConnect(t, text(got[0]), "")
			assert.Equal(t, `42["auth",{}]`, got[1])

			s.push(path, sid, "451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID")
			assert.Equal(t,
				[]string{`451-["message-back",{"_placeholder":true,"num":0}]`, "bAQID"},
				s.pollPackets(path, sid, 2))
		}},
	})
}

// push POSTs a polling body that the server must accept.
func (s *server) push(path, sid, body string) {
	s.t.Helper()
	r := s.request(http.MethodPost, s.pollURL(path, sid), body)
	require.Equal(s.t, http.StatusOK, r.status, "POST %q: body %q", body, r.body)
	require.Equal(s.t, "ok", r.body, "POST %q", body)
}

// pollPackets polls session sid until it has n packets other than pings,
// answering each ping, and returns them in order.
func (s *server) pollPackets(path, sid string, n int) []string {
	s.t.Helper()
	deadline := time.Now().Add(caseTimeout)
	var got []string
	for len(got) < n {
		require.True(s.t, time.Now().Before(deadline), "only %d of %d packets within %s: %q", len(got), n, caseTimeout, got)
		r := s.request(http.MethodGet, s.pollURL(path, sid), "")
		require.Equal(s.t, http.StatusOK, r.status, "GET body %q", r.body)
		for _, p := range strings.Split(r.body, "\x1e") {
			if p == "2" {
				s.push(path, sid, "3")
				continue
			}
			got = append(got, p)
		}
	}
	require.Len(s.t, got, n, "packets %q", got)
	return got
}
