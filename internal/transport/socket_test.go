package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func echoHandlers(ns *Namespace) {
	ns.OnConnection(func(s *Socket) {
		s.On("echo", func(s *Socket, m *Message, ack Ack) {
			if ack != nil {
				_ = ack(m)
				return
			}
			_ = s.Emit("echo", m)
		})
		s.On("join", func(s *Socket, m *Message, ack Ack) {
			var room string
			_ = json.Unmarshal(m.Args[0], &room)
			s.Join(room)
			_ = ack(s.Rooms())
		})
		s.On("shout", func(s *Socket, m *Message, _ Ack) {
			var room string
			_ = json.Unmarshal(m.Args[0], &room)
			_ = s.To(room).Emit("shout", m.Args[1])
		})
	})
}

func TestMiddlewareRefusesWithData(t *testing.T) {
	var order []string
	var mu sync.Mutex
	_, url := startServer(t, Config{}, func(srv *Server) {
		ns := srv.Of("/vendors")
		ns.Use(func(s *Socket) error {
			mu.Lock()
			order = append(order, "first")
			mu.Unlock()
			var auth struct{ Token string }
			_ = json.Unmarshal(s.Auth(), &auth)
			if auth.Token != "good" {
				return &ConnectError{Message: "unauthorized", Data: map[string]string{"code": "unauthorized"}}
			}
			s.SetData("claims-of-" + auth.Token)
			return nil
		})
		ns.Use(func(s *Socket) error {
			mu.Lock()
			order = append(order, "second")
			mu.Unlock()
			return nil
		})
		ns.OnConnection(func(s *Socket) { _ = s.Emit("whoami", s.Data()) })
	})

	c := dial(t, url)
	c.send(`40/vendors,{"token":"bad"}`)
	c.expect(`44/vendors,{"message":"unauthorized","data":{"code":"unauthorized"}}`)
	c.send(`40/vendors,{"token":"good"}`)
	reply := string(c.next())
	assert.True(t, strings.HasPrefix(reply, `40/vendors,{"sid":"`), reply)
	c.expect(`42/vendors,["whoami","claims-of-good"]`)
	mu.Lock()
	assert.Equal(t, []string{"first", "first", "second"}, order)
	mu.Unlock()
}

func TestPlainErrorFromMiddleware(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) {
		srv.Of("/").Use(func(*Socket) error { return errors.New("nope") })
	})
	c := dial(t, url)
	c.send(`40`)
	c.expect(`44{"message":"nope"}`)
}

func TestUnknownNamespaceIsRefused(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) { srv.Of("/") })
	c := dial(t, url)
	c.send(`40/admin,`)
	c.expect(`44/admin,{"message":"Invalid namespace"}`)
	c.join("/") // the session is still usable
}

func TestEventArgumentsStayRaw(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) { echoHandlers(srv.Of("/")) })
	c := dial(t, url)
	c.join("/")
	// Key order, spacing inside values and number forms survive untouched.
	c.send(`42["echo",{"z":1,"a":[1.50,"x"]},"é\u00e9",null]`)
	c.expect(`42["echo",{"z":1,"a":[1.50,"x"]},"é\u00e9",null]`)
	c.send(`427["echo",{"b":2,"a":1}]`)
	c.expect(`437[{"b":2,"a":1}]`)
}

func TestBinaryBothWays(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) {
		echoHandlers(srv.Of("/"))
		srv.Of("/").OnConnection(func(s *Socket) {
			s.On("file", func(s *Socket, m *Message, ack Ack) {
				_ = ack("got", len(m.Attachments[0]), []byte{9, 8})
			})
		})
	})
	c := dial(t, url)
	c.join("/")
	c.send(`452-3["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4})
	c.expect(`461-3["got",3,{"_placeholder":true,"num":0}]`)
	select {
	case b := <-c.bins:
		assert.Equal(t, []byte{9, 8}, b)
	case <-time.After(2 * time.Second):
		t.Fatal("no attachment")
	}
}

func TestRoomBroadcastExcludesSender(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) { echoHandlers(srv.Of("/")) })
	clients := make([]*wsClient, 4)
	ids := make([]string, 4)
	for i := range clients {
		clients[i] = dial(t, url)
		ids[i] = clients[i].join("/")
	}
	for i := range 3 {
		clients[i].send(fmt.Sprintf(`42%d["join","r1"]`, i))
		clients[i].expect(fmt.Sprintf(`43%d[["%s","r1"]]`, i, ids[i]))
	}
	clients[0].send(`42["shout","r1",{"hi":1}]`)
	clients[1].expect(`42["shout",{"hi":1}]`)
	clients[2].expect(`42["shout",{"hi":1}]`)
	clients[0].quiet(150 * time.Millisecond)
	clients[3].quiet(50 * time.Millisecond)
}

func TestBroadcastSelection(t *testing.T) {
	var nsp *Namespace
	_, url := startServer(t, Config{}, func(srv *Server) {
		nsp = srv.Of("/")
		echoHandlers(nsp)
	})
	a, b, c := dial(t, url), dial(t, url), dial(t, url)
	ida := a.join("/")
	b.join("/")
	c.join("/")
	a.send(`420["join","x"]`)
	a.next()
	a.send(`421["join","y"]`)
	a.next()
	b.send(`420["join","y"]`)
	b.next()

	// In both rooms, received once.
	require.NoError(t, nsp.To("x", "y").Emit("m", 1))
	a.expect(`42["m",1]`)
	b.expect(`42["m",1]`)
	a.quiet(100 * time.Millisecond)
	c.quiet(10 * time.Millisecond)

	require.NoError(t, nsp.Except("y").Emit("m", 2))
	c.expect(`42["m",2]`)
	a.quiet(100 * time.Millisecond)
	b.quiet(10 * time.Millisecond)

	// A socket's own id is a room.
	require.NoError(t, nsp.To(ida).Emit("m", 3))
	a.expect(`42["m",3]`)

	require.ErrorIs(t, nsp.Emit("disconnect"), ErrReservedEvent)
}

func TestEmitWithAck(t *testing.T) {
	type result struct {
		m   *Message
		err error
	}
	results := make(chan result, 4)
	sockets := make(chan *Socket, 1)
	_, url := startServer(t, Config{}, func(srv *Server) {
		srv.Of("/").OnConnection(func(s *Socket) { sockets <- s })
	})
	c := dial(t, url)
	c.join("/")
	s := <-sockets
	cb := func(m *Message, err error) { results <- result{m, err} }

	require.NoError(t, s.EmitWithAck("q", time.Second, cb, "first"))
	c.expect(`420["q","first"]`)
	c.send(`430[{"ok":true}]`)
	r := <-results
	require.NoError(t, r.err)
	assert.JSONEq(t, `{"ok":true}`, string(r.m.Args[0]))

	// A duplicate or unknown ack id is ignored.
	c.send(`430[{"ok":true}]`)
	c.send(`4399[1]`)

	start := time.Now()
	require.NoError(t, s.EmitWithAck("q", 150*time.Millisecond, cb, "second"))
	c.expect(`421["q","second"]`)
	r = <-results
	require.ErrorIs(t, r.err, ErrAckTimeout)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	assert.Empty(t, results)

	require.NoError(t, s.EmitWithAck("q", 10*time.Second, cb))
	c.expect(`422["q"]`)
	c.send(`41`)
	r = <-results
	require.ErrorIs(t, r.err, ErrDisconnected)
}

// TestMaxPendingAcks: a client that answers nothing holds at most
// MaxPendingAcks callbacks; an answer frees one. No timeout is needed.
func TestMaxPendingAcks(t *testing.T) {
	sockets := make(chan *Socket, 1)
	_, url := startServer(t, Config{MaxPendingAcks: 3}, func(srv *Server) {
		srv.Of("/").OnConnection(func(s *Socket) { sockets <- s })
	})
	c := dial(t, url)
	c.join("/")
	s := <-sockets
	answered := make(chan error, 8)
	cb := func(_ *Message, err error) { answered <- err }
	for i := range 3 {
		require.NoError(t, s.EmitWithAck("q", 0, cb))
		c.expect(fmt.Sprintf(`42%d["q"]`, i))
	}
	require.ErrorIs(t, s.EmitWithAck("q", 0, cb), ErrTooManyPendingAcks)
	c.send(`431[]`)
	require.NoError(t, <-answered)
	require.NoError(t, s.EmitWithAck("q", 0, cb), "an answer frees a slot")
	c.expect(`423["q"]`)

	require.True(t, s.DropAck(0), "dropping frees a slot too")
	require.False(t, s.DropAck(0), "once")
	require.False(t, s.DropAck(1), "answered already")
	id, err := s.EmitWithAckID("q", 0, cb)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), id)
	c.expect(`424["q"]`)
	c.send(`430[]`) // a late answer to a dropped ack calls nothing
	c.send(`434[]`)
	require.NoError(t, <-answered)
	assert.Empty(t, answered)
}

func TestDisconnectReasons(t *testing.T) {
	reasons := make(chan string, 4)
	sockets := make(chan *Socket, 4)
	_, url := startServer(t, Config{}, func(srv *Server) {
		for _, name := range []string{"/", "/a"} {
			srv.Of(name).OnConnection(func(s *Socket) {
				s.OnDisconnect(func(r string) { reasons <- s.Namespace().Name() + " " + r })
				sockets <- s
			})
		}
	})
	c := dial(t, url)
	c.join("/")
	c.join("/a")
	<-sockets
	sa := <-sockets

	c.send(`41`)
	assert.Equal(t, "/ client namespace disconnect", <-reasons)

	sa.Disconnect(false)
	c.expect(`41/a,`)
	assert.Equal(t, "/a server namespace disconnect", <-reasons)
	assert.False(t, sa.Connected())

	// The session survives both and can join again.
	c.join("/")
	<-sockets
	_ = c.ws.Close()
	assert.Equal(t, "/ transport close", <-reasons)
}

func TestProtocolViolationsCloseOnlyThatSession(t *testing.T) {
	tests := []struct {
		name string
		send string
	}{
		{"unknown type", `47`},
		{"non-array event", `42{"a":1}`},
		{"empty event", `42[]`},
		{"bad ack id", `42abc["x"]`},
		{"reserved event", `42["disconnect"]`},
		{"invalid json", `42["x",`},
		{"namespace not joined", `42/nope,["x"]`},
		{"second connect", `40`},
		{"disconnect with payload", `41{}`},
		{"ack without id", `43[1]`},
		{"binary frame unexpected", "BIN"},
		{"client ping", "2ping-is-server-only"},
	}
	_, url := startServer(t, Config{}, func(srv *Server) { echoHandlers(srv.Of("/")) })
	bystander := dial(t, url)
	bystander.join("/")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, url)
			c.join("/")
			switch {
			case tt.send == "BIN":
				c.sendBinary([]byte{1})
			case strings.HasPrefix(tt.send, "2ping"):
				c.send("2")
			default:
				c.send("4" + tt.send)
			}
			c.closed()
			bystander.send(`421["echo","still here"]`)
			bystander.expect(`431["still here"]`)
		})
	}
}

func TestConnectTimeout(t *testing.T) {
	_, url := startServer(t, Config{ConnectTimeout: 200 * time.Millisecond}, func(srv *Server) { srv.Of("/") })
	c := dial(t, url)
	start := time.Now()
	c.closed()
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	joined := dial(t, url)
	joined.join("/")
	joined.quiet(400 * time.Millisecond) // pings are answered by the client; nothing else comes
}

func TestSlowConsumerIsEvicted(t *testing.T) {
	reasons := make(chan string, 1)
	sockets := make(chan *Socket, 1)
	cfg := Config{}
	cfg.SendQueue = 4
	_, url := startServer(t, cfg, func(srv *Server) {
		srv.Of("/").OnConnection(func(s *Socket) {
			s.OnDisconnect(func(r string) { reasons <- r })
			sockets <- s
		})
	})
	// A polling client that never polls again: everything stays queued.
	sid := pollingHandshake(t, url)
	resp, err := http.Post(url+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("40"))
	require.NoError(t, err)
	_ = resp.Body.Close()
	s := <-sockets
	var sendErr error
	for i := 0; i < 10 && sendErr == nil; i++ {
		sendErr = s.Emit("tick", i)
	}
	require.ErrorIs(t, sendErr, errSlowConsumerForTest())
	assert.Equal(t, "slow consumer", <-reasons)
}

func TestMaxConnections(t *testing.T) {
	cfg := Config{}
	cfg.MaxConnections = 1
	_, url := startServer(t, cfg, func(srv *Server) { srv.Of("/") })
	pollingHandshake(t, url)
	resp, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func pollingHandshake(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var open struct{ SID string }
	require.NoError(t, json.Unmarshal(body[1:], &open))
	return open.SID
}

func TestEmitEmptyEventName(t *testing.T) {
	_, url := startServer(t, Config{}, func(s *Server) {
		s.Of("/").OnConnection(func(so *Socket) { _ = so.Emit("", "x") })
	})
	c := dial(t, url)
	c.join("/")
	c.expect(`42["","x"]`)
}

func TestInvalidNamespaceNamePanics(t *testing.T) {
	_, _ = startServer(t, Config{}, func(s *Server) {
		assert.Panics(t, func() { s.Of("drivers") })
		assert.Panics(t, func() { s.Of("/a,b") })
		assert.NotPanics(t, func() { s.Of("") })
	})
}

func TestNamespaceHandlers(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) {
		srv.Of("/")
		ns := srv.Of("/orders")
		ns.On("who", func(s *Socket, _ *Message, ack Ack) { _ = ack("namespace") })
		ns.On("both", func(s *Socket, _ *Message, ack Ack) { _ = ack("namespace") })
		ns.OnConnection(func(s *Socket) {
			s.On("both", func(s *Socket, _ *Message, ack Ack) { _ = ack("socket") })
		})
	})
	c := dial(t, url)
	c.join("/orders")
	c.send(`42/orders,1["who"]`)
	c.expect(`43/orders,1["namespace"]`)
	// The socket's own handler wins over the namespace's.
	c.send(`42/orders,2["both"]`)
	c.expect(`43/orders,2["socket"]`)
	// Other namespaces do not see them.
	c.join("/")
	c.send(`423["who"]`)
	c.quiet(100 * time.Millisecond)
}

func TestAuthIsDroppedAfterOnConnection(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) {
		ns := srv.Of("/")
		ns.OnConnection(func(s *Socket) { require.NoError(t, s.Emit("auth", s.Auth())) })
		ns.On("auth?", func(s *Socket, _ *Message, ack Ack) { _ = ack(s.Auth() == nil) })
	})
	c := dial(t, url)
	c.send(`40{"token":"t"}`)
	require.True(t, strings.HasPrefix(string(c.next()), `40{"sid":"`))
	c.expect(`42["auth",{"token":"t"}]`)
	c.send(`421["auth?"]`)
	c.expect(`431[true]`)
}
