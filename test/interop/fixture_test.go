package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/transport"
	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// unansweredAckTimeout is the ack timeout of askUnanswered: long enough that
// an outcome seen before it can only come from the disconnect.
const unansweredAckTimeout = 5 * time.Second

// fixture is the server side of the interop suite: the handlers the JS tests
// call, and what the server observed about sockets (disconnect reasons,
// ack callback outcomes, live sockets per group), kept so that a test can ask
// about a socket after it is gone.
type fixture struct {
	t testing.TB

	mu          sync.Mutex
	reasons     map[string]string // socket id -> reason given to OnDisconnect
	ackOutcomes map[string]string // socket id -> outcome of askUnanswered's callback
	groups      map[string]int    // auth "group" -> sockets connected now
	evicted     map[string]bool   // socket id -> an emit found its send queue full
}

// startServer serves a fresh fixture on a loopback port and returns its base
// URL. The server is shut down, then the listener closed, when t ends.
func startServer(t *testing.T, cfg transport.Config) string {
	t.Helper()
	srv := transport.NewServer(cfg, testLogger(t))
	newFixture(t).mount(srv)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	return serveMux(t, srv, mux)
}

func newFixture(t testing.TB) *fixture {
	return &fixture{
		t:           t,
		reasons:     make(map[string]string),
		ackOutcomes: make(map[string]string),
		groups:      make(map[string]int),
		evicted:     make(map[string]bool),
	}
}

// testLogger logs warnings and above only: 1,000 clients would bury
// everything else in lifecycle logs, and warnings are what a failing run
// needs.
func testLogger(t *testing.T) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel))
}

// serveMux serves mux, which routes to srv, on a loopback port and returns
// its base URL. srv is shut down, then the listener closed, when t ends.
func serveMux(t *testing.T, srv *transport.Server, mux *http.ServeMux) string {
	t.Helper()
	ts := httptest.NewServer(mux) // binds 127.0.0.1:0
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		// Before ts.Close: held polling requests and websockets belong to the
		// transport, and ts.Close waits for the former.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut down transport server: %v", err)
		}
	})
	return ts.URL
}

// mount creates the namespaces the tests use. Every accepted socket gets the
// same handlers whatever its namespace.
func (f *fixture) mount(srv *transport.Server) {
	srv.Of("/").OnConnection(f.onConnection)

	// /auth stands for the dispatch namespaces: a token checked at CONNECT,
	// refused with the contract's {"code":"unauthorized"}.
	auth := srv.Of("/auth")
	auth.Use(requireGoodToken)
	auth.OnConnection(f.onConnection)

	// /plain refuses everyone with a plain Go error, which must go out as
	// {"message": err.Error()} without data.
	plain := srv.Of("/plain")
	plain.Use(func(*transport.Socket) error { return errors.New("plain refusal") })
	plain.OnConnection(f.onConnection)
}

func requireGoodToken(s *transport.Socket) error {
	var auth struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(s.Auth(), &auth); err != nil || auth.Token != "good" {
		return &transport.ConnectError{Message: "unauthorized", Data: map[string]string{"code": "unauthorized"}}
	}
	return nil
}

func (f *fixture) onConnection(s *transport.Socket) {
	// The transport lets go of the CONNECT auth once this returns: whoami
	// reports the copy kept here.
	s.SetData(s.Auth())
	group := authGroup(s.Auth())
	f.mu.Lock()
	f.groups[group]++
	f.mu.Unlock()
	// The id is read now: what the hook must report is the id the client had.
	id := s.ID()
	s.OnDisconnect(func(reason string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if old, ok := f.reasons[id]; ok {
			f.t.Errorf("socket %s: OnDisconnect called twice (%q, then %q)", id, old, reason)
		}
		f.reasons[id] = reason
		f.groups[group]--
	})

	s.On("echo", f.echo)
	s.On("whoami", f.whoami)
	s.On("ask-client", f.askClient)
	s.On("ask-ignored", f.askIgnored)
	s.On("ask-unanswered", f.askUnanswered)
	s.On("send-binary", f.sendBinary)
	s.On("join", f.join)
	s.On("leave", f.leave)
	s.On("shout", f.shout)
	s.On("drop-me", f.dropMe)
	s.On("disconnect-reason", f.disconnectReason)
	s.On("ack-outcome", f.ackOutcome)
	s.On("group-count", f.groupCount)
}

// authGroup is the optional "group" field of the CONNECT auth: the load test
// counts its own sockets by it, apart from those of other test files.
func authGroup(auth json.RawMessage) string {
	var a struct {
		Group string `json:"group"`
	}
	_ = json.Unmarshal(auth, &a) // no group (or no object) is the "" group
	return a.Group
}

// echo sends back exactly what it received, binary attachments included: as
// the ack when the client asked for one, else as an "echo" event. Splicing
// the *Message is what a relay does, so this checks that placeholders and
// attachments survive a round trip without being parsed.
func (f *fixture) echo(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	if ack != nil {
		f.check(s, "echo ack", ack(m))
		return
	}
	f.check(s, "echo event", s.Emit("echo", m))
}

// whoami acks {"id": socket id, "auth": CONNECT auth}, so the client sees
// what the middleware saw.
func (f *fixture) whoami(s *transport.Socket, _ *transport.Message, ack transport.Ack) {
	if f.needAck(s, "whoami", ack) {
		f.check(s, "whoami ack", ack(map[string]any{"id": s.ID(), "auth": s.Data()}))
	}
}

// askClient checks server-to-client acks. From {"n":N} it sends "question"
// {"n":N} with an ack request, decodes the client's {"n":M} and acks the
// original request with {"n":M+1}: the client sees N+2 only if Go read its
// ack value.
func (f *fixture) askClient(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	var q struct {
		N int `json:"n"`
	}
	if !f.needAck(s, "ask-client", ack) || !f.arg(s, m, 0, &q) {
		return
	}
	err := s.EmitWithAck("question", 2*time.Second, func(reply *transport.Message, err error) {
		if err != nil {
			f.check(s, "ask-client ack", ack(map[string]string{"error": outcome(err)}))
			return
		}
		var a struct {
			N int `json:"n"`
		}
		if !f.arg(s, reply, 0, &a) {
			return
		}
		f.check(s, "ask-client ack", ack(map[string]int{"n": a.N + 1}))
	}, q)
	f.check(s, "question", err)
}

// askIgnored sends "ignore-me" with an ack request that the client does not
// answer within {"timeoutMs":N}, and emits the callback's outcome and timing
// as "ack-timeout-observed". The client acks late on purpose: a second call
// of the callback would be a bug, reported as "ack-callback-repeated".
func (f *fixture) askIgnored(s *transport.Socket, m *transport.Message, _ transport.Ack) {
	var req struct {
		TimeoutMS int `json:"timeoutMs"`
	}
	if !f.arg(s, m, 0, &req) {
		return
	}
	start := time.Now()
	var calls atomic.Int32
	err := s.EmitWithAck("ignore-me", time.Duration(req.TimeoutMS)*time.Millisecond, func(_ *transport.Message, err error) {
		if calls.Add(1) > 1 {
			f.check(s, "ack-callback-repeated", s.Emit("ack-callback-repeated", outcome(err)))
			return
		}
		f.check(s, "ack-timeout-observed", s.Emit("ack-timeout-observed", map[string]any{
			"outcome":   outcome(err),
			"elapsedMs": time.Since(start).Milliseconds(),
		}))
	})
	f.check(s, "ignore-me", err)
}

// askUnanswered sends "question-unanswered" with an ack request; the client
// disconnects instead of answering, so the callback must get ErrDisconnected
// well before unansweredAckTimeout. "ack-outcome" reports what it got.
func (f *fixture) askUnanswered(s *transport.Socket, _ *transport.Message, _ transport.Ack) {
	id := s.ID()
	err := s.EmitWithAck("question-unanswered", unansweredAckTimeout, func(_ *transport.Message, err error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ackOutcomes[id] = outcome(err)
	})
	f.check(s, "question-unanswered", err)
}

// sendBinary emits "binary" with two []byte arguments built in Go around a
// JSON one, so the client checks bytes that never went through its own
// encoder, and the order of attachments. {"size":N} sizes the first: byte i
// is i%256.
func (f *fixture) sendBinary(s *transport.Socket, m *transport.Message, _ transport.Ack) {
	var req struct {
		Size int `json:"size"`
	}
	if !f.arg(s, m, 0, &req) {
		return
	}
	data := make([]byte, req.Size)
	for i := range data {
		data[i] = byte(i % 256)
	}
	f.check(s, "binary", s.Emit("binary", "two-buffers", data, map[string]string{"between": "json"}, []byte{0x00, 0xff}))
}

// join adds the socket to the room named by its first argument and acks its
// rooms.
func (f *fixture) join(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	var room string
	if !f.needAck(s, "join", ack) || !f.arg(s, m, 0, &room) {
		return
	}
	s.Join(room)
	f.check(s, "join ack", ack(s.Rooms()))
}

func (f *fixture) leave(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	var room string
	if !f.needAck(s, "leave", ack) || !f.arg(s, m, 0, &room) {
		return
	}
	s.Leave(room)
	f.check(s, "leave ack", ack())
}

// shout relays [room, payload] as "shout" to the room except the sender, the
// exclusion being what the rooms test checks. The ack comes after the
// broadcast is queued.
func (f *fixture) shout(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	var room string
	if !f.arg(s, m, 0, &room) || !f.arg(s, m, 1, new(json.RawMessage)) {
		return
	}
	f.check(s, "shout", s.To(room).Emit("shout", m.Args[1]))
	if ack != nil {
		f.check(s, "shout ack", ack())
	}
}

// dropMe ends the connection from inside a handler, as a real kick would:
//
//	"close":            s.Conn().Close("forced close"): the Engine.IO session ends
//	"disconnect-close": s.Disconnect(true)
//	"disconnect":       s.Disconnect(false): only this namespace is left
func (f *fixture) dropMe(s *transport.Socket, m *transport.Message, _ transport.Ack) {
	var mode string
	if !f.arg(s, m, 0, &mode) {
		return
	}
	switch mode {
	case "close":
		s.Conn().Close("forced close")
	case "disconnect-close":
		s.Disconnect(true)
	case "disconnect":
		s.Disconnect(false)
	default:
		f.t.Errorf("drop-me: unknown mode %q", mode)
	}
}

// disconnectReason acks the OnDisconnect reason recorded for the socket id in
// its first argument, or null while there is none.
func (f *fixture) disconnectReason(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	var id string
	if !f.needAck(s, "disconnect-reason", ack) || !f.arg(s, m, 0, &id) {
		return
	}
	f.mu.Lock()
	reason, ok := f.reasons[id]
	f.mu.Unlock()
	if !ok {
		f.check(s, "disconnect-reason ack", ack(nil))
		return
	}
	f.check(s, "disconnect-reason ack", ack(reason))
}

// ackOutcome acks askUnanswered's outcome for the socket id in its first
// argument, or null while the callback has not run.
func (f *fixture) ackOutcome(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	var id string
	if !f.needAck(s, "ack-outcome", ack) || !f.arg(s, m, 0, &id) {
		return
	}
	f.mu.Lock()
	got, ok := f.ackOutcomes[id]
	f.mu.Unlock()
	if !ok {
		f.check(s, "ack-outcome ack", ack(nil))
		return
	}
	f.check(s, "ack-outcome ack", ack(got))
}

// groupCount acks how many sockets of the auth group in its first argument
// are connected now.
func (f *fixture) groupCount(s *transport.Socket, m *transport.Message, ack transport.Ack) {
	var group string
	if !f.needAck(s, "group-count", ack) || !f.arg(s, m, 0, &group) {
		return
	}
	f.mu.Lock()
	n := f.groups[group]
	f.mu.Unlock()
	f.check(s, "group-count ack", ack(n))
}

// outcome names an AckCallback error for the JS side.
func outcome(err error) string {
	switch {
	case err == nil:
		return "acked"
	case errors.Is(err, transport.ErrAckTimeout):
		return "timeout"
	case errors.Is(err, transport.ErrDisconnected):
		return "disconnected"
	default:
		return "unexpected error: " + err.Error()
	}
}

// arg decodes argument i of m into v; a test that sends the wrong arguments
// fails here with the handler named, instead of timing out on the JS side.
func (f *fixture) arg(s *transport.Socket, m *transport.Message, i int, v any) bool {
	if i >= len(m.Args) {
		f.t.Errorf("socket %s: want at least %d arguments, got %d", s.ID(), i+1, len(m.Args))
		return false
	}
	if err := json.Unmarshal(m.Args[i], v); err != nil {
		f.t.Errorf("socket %s: argument %d %s: %v", s.ID(), i, m.Args[i], err)
		return false
	}
	return true
}

func (f *fixture) needAck(s *transport.Socket, event string, ack transport.Ack) bool {
	if ack == nil {
		f.t.Errorf("socket %s: %q needs an ack", s.ID(), event)
		return false
	}
	return true
}

// check reports a failed emit or ack. Once the socket is gone the error is
// expected (the client may leave while an answer is on its way) and only
// logged.
func (f *fixture) check(s *transport.Socket, what string, err error) {
	if err == nil {
		return
	}
	msg := fmt.Sprintf("socket %s: %s: %v", s.ID(), what, err)
	// A full send queue evicts the session (the slow-consumer check asks for
	// it): that emit and the ones after it fail before the socket reports
	// the disconnect.
	f.mu.Lock()
	if errors.Is(err, engineio.ErrSlowConsumer) {
		f.evicted[s.ID()] = true
	}
	evicted := f.evicted[s.ID()]
	f.mu.Unlock()
	if evicted {
		f.t.Log(msg + " (slow consumer evicted)")
		return
	}
	if !s.Connected() {
		f.t.Log(msg + " (socket already disconnected)")
		return
	}
	f.t.Error(msg)
}
