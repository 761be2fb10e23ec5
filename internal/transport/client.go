package transport

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
	"github.com/dispatchd/dispatchd/internal/transport/parser"
	"go.uber.org/zap"
)

var emptyAuth = json.RawMessage(`{}`)

// client multiplexes the namespaces of one Engine.IO session. onMessage
// runs on the session's reading goroutine, never concurrently.
type client struct {
	srv  *Server
	conn *engineio.Conn
	dec  parser.Decoder

	mu sync.Mutex
	// sockets has one per namespace joined: a client joins few (the
	// server has few), and a map cost about 250 B per idle connection.
	sockets      []*Socket
	connectTimer *time.Timer // until the first namespace is joined
	closed       bool        // onClose ran: no socket may join any more
}

func (s *Server) onConn(conn *engineio.Conn) {
	c := &client{srv: s, conn: conn}
	conn.OnMessage(c.onMessage)
	conn.OnClose(c.onClose)
	c.connectTimer = time.AfterFunc(s.cfg.ConnectTimeout, func() {
		c.mu.Lock()
		joined := len(c.sockets) > 0
		c.mu.Unlock()
		if !joined {
			conn.Close(engineio.ReasonForcedClose)
		}
	})
}

// onMessage runs only while the conn is open (Conn.deliver checks it
// under the lock that serialises messages).
func (c *client) onMessage(data []byte, binary bool) {
	p, atts, done, err := c.dec.Add(data, binary)
	if err == nil && done {
		err = c.handle(p, atts)
	}
	if err != nil && !c.conn.Closed() {
		c.srv.log.Warn("closing session on protocol violation", zap.String("reason", engineio.ReasonParseError), zap.Error(err))
		c.conn.Close(engineio.ReasonParseError)
	}
}

var (
	errDoubleConnect   = errors.New("namespace already joined")
	errNotJoined       = errors.New("packet for a namespace not joined")
	errClientConnError = errors.New("CONNECT_ERROR sent by a client")
)

func (c *client) handle(p parser.Packet, atts [][]byte) error {
	c.mu.Lock()
	sock := c.socketLocked(p.Namespace)
	c.mu.Unlock()
	if p.Type == parser.Connect {
		if sock != nil {
			return errDoubleConnect
		}
		c.connect(p)
		return nil
	}
	if p.Type == parser.ConnectError {
		return errClientConnError
	}
	if sock == nil {
		return errNotJoined
	}
	switch p.Type {
	case parser.Disconnect:
		sock.close(ReasonClientNamespaceDisconnect)
	case parser.Event, parser.BinaryEvent:
		return sock.onEvent(p, atts)
	case parser.Ack, parser.BinaryAck:
		return sock.onAck(p, atts)
	}
	return nil
}

func (c *client) connect(p parser.Packet) {
	ns := c.srv.namespace(p.Namespace)
	if ns == nil {
		c.sendConnectError(p.Namespace, errInvalidNamespace)
		return
	}
	auth := emptyAuth
	if p.Data != nil {
		// p.Data aliases the received message, which this layer owns.
		auth = p.Data
	}
	s := &Socket{id: newID(), ns: ns, client: c, auth: auth}
	if err := ns.connect(s); err != nil {
		c.sendConnectError(p.Namespace, err)
	}
}

var errInvalidNamespace = &ConnectError{Message: "Invalid namespace"}

func (c *client) sendConnectError(nsp string, err error) {
	p := parser.Packet{Type: parser.ConnectError, Namespace: nsp}
	wire := p.Append([]byte{byte(engineio.Message)})
	wire = append(wire, connectErrorPayload(err)...)
	_ = c.conn.SendFrames(engineio.NewTextMessage(wire, false))
}

// addSocket joins s to the client; false if the session has ended, as
// it may while the middleware runs: onClose has then released the
// sockets, or is about to (it looks at them under c.mu), and would miss s.
func (c *client) addSocket(s *Socket) bool {
	c.mu.Lock()
	if c.closed || c.conn.Closed() {
		c.mu.Unlock()
		return false
	}
	if i := c.indexLocked(s.ns.name); i >= 0 {
		c.sockets[i] = s
	} else {
		c.sockets = append(c.sockets, s)
	}
	t := c.connectTimer
	c.connectTimer = nil
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	return true
}

func (c *client) removeSocket(s *Socket) {
	c.mu.Lock()
	if i := c.indexLocked(s.ns.name); i >= 0 && c.sockets[i] == s {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
	c.mu.Unlock()
}

func (c *client) indexLocked(nsp string) int {
	return slices.IndexFunc(c.sockets, func(s *Socket) bool { return s.ns.name == nsp })
}

func (c *client) socketLocked(nsp string) *Socket {
	if i := c.indexLocked(nsp); i >= 0 {
		return c.sockets[i]
	}
	return nil
}

func (c *client) socketList() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sockets)
}

// onClose ends every namespace socket with the session's reason.
func (c *client) onClose(reason string) {
	c.mu.Lock()
	c.closed = true
	t := c.connectTimer
	c.connectTimer = nil
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	for _, s := range c.socketList() {
		s.close(reason)
	}
}

// newID returns a public socket id: 20 URL-safe characters.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
