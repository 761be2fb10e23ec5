// Package sioclient is a small Socket.IO v4 client over WebSocket, for
// tests and tools that drive a server (it is not a full client: no
// polling, no binary, no reconnection). It answers pings, multiplexes
// namespaces, matches acks to requests and hands every event to the caller.
//
// Under it, [RawConn] is the raw mode: a WebSocket client on a bare TCP
// connection for frame-level tests, which may send any bytes at all. The
// package imports nothing of the server, so every test may use it.
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is a server→client event. AckID is set when the server asked for
// an acknowledgement.
type Event struct {
	Namespace string
	Name      string
	Args      []json.RawMessage
	AckID     *uint64
}

// ConnectError is a refused CONNECT.
type ConnectError struct {
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *ConnectError) Error() string { return "connect refused: " + e.Message }

// ErrClosed is returned once the connection has ended.
var ErrClosed = errors.New("sioclient: connection closed")

// Client is one Engine.IO session over WebSocket. Its reader goroutine
// runs until Close or the server ends the session.
type Client struct {
	ws *RawConn

	mu       sync.Mutex
	nextAck  uint64
	acks     map[uint64]chan []json.RawMessage
	connects map[string]chan connectReply
	kicked   map[string]chan struct{} // see Kicked

	// Events receives every event, in order. It is buffered; a test that
	// ignores events must still drain it or the reader blocks.
	Events chan Event
	done   chan struct{}
	err    error
}

type connectReply struct {
	sid string
	err error
}

// SocketURL is the WebSocket address of the Socket.IO endpoint of base
// (http://host:port), with query added to the Engine.IO one.
func SocketURL(base, query string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	if query != "" {
		u.RawQuery += "&" + query
	}
	return u.String(), nil
}

// DialEngine opens a WebSocket to base's /socket.io/ and reads the
// Engine.IO open packet, which it returns. The caller owns the
// connection: this is the start of a session for tests that speak the
// protocol packet by packet.
func DialEngine(ctx context.Context, base string, opts RawOptions) (*RawConn, string, error) {
	u, err := SocketURL(base, "")
	if err != nil {
		return nil, "", err
	}
	ws, _, err := DialRaw(ctx, u, opts)
	if err != nil {
		return nil, "", fmt.Errorf("dial %s: %w", base, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(ws.timeout))
	op, open, err := ws.ReadMessage()
	_ = ws.SetReadDeadline(time.Time{})
	if err != nil || op != OpText || len(open) == 0 || open[0] != '0' {
		_ = ws.Close()
		return nil, "", fmt.Errorf("no open packet (%q): %v", open, err)
	}
	return ws, string(open), nil
}

// Dial opens a WebSocket session to base (http://host:port) at /socket.io/.
func Dial(ctx context.Context, base string) (*Client, error) {
	ws, _, err := DialEngine(ctx, base, RawOptions{})
	if err != nil {
		return nil, err
	}
	c := &Client{
		ws:       ws,
		acks:     make(map[uint64]chan []json.RawMessage),
		connects: make(map[string]chan connectReply),
		kicked:   make(map[string]chan struct{}),
		Events:   make(chan Event, 4096),
		done:     make(chan struct{}),
	}
	go c.read()
	return c, nil
}

// Done is closed when the session ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close ends the session.
func (c *Client) Close() error {
	err := c.ws.Close()
	<-c.done
	return err
}

func prefix(typ byte, ns string) []byte {
	b := []byte{'4', typ}
	if ns != "/" && ns != "" {
		b = append(b, ns...)
		b = append(b, ',')
	}
	return b
}

// Connect joins namespace ns with auth (nil for none) and returns the
// socket id, or a *ConnectError.
func (c *Client) Connect(ctx context.Context, ns string, auth any) (string, error) {
	ch := make(chan connectReply, 1)
	c.mu.Lock()
	c.connects[ns] = ch
	if k := c.kicked[ns]; k != nil && isClosed(k) {
		delete(c.kicked, ns) // a new socket of ns: not kicked yet
	}
	c.mu.Unlock()
	pkt := prefix('0', ns)
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return "", err
		}
		pkt = append(pkt, b...)
	}
	if err := c.write(pkt); err != nil {
		return "", err
	}
	select {
	case r := <-ch:
		return r.sid, r.err
	case <-c.done:
		return "", ErrClosed
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Kicked returns a channel closed once the server disconnects ns (a
// DISCONNECT packet) after the last Connect to ns.
func (c *Client) Kicked(ns string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kickedLocked(ns)
}

func (c *Client) kickedLocked(ns string) chan struct{} {
	k := c.kicked[ns]
	if k == nil {
		k = make(chan struct{})
		c.kicked[ns] = k
	}
	return k
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Emit sends an event without asking for an ack.
func (c *Client) Emit(ns, event string, args ...any) error {
	pkt, err := eventPacket(prefix('2', ns), "", event, args)
	if err != nil {
		return err
	}
	return c.write(pkt)
}

// Call sends an event and waits for its ack's arguments.
func (c *Client) Call(ctx context.Context, ns, event string, args ...any) ([]json.RawMessage, error) {
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	id := c.nextAck
	c.nextAck++
	c.acks[id] = ch
	c.mu.Unlock()
	pkt, err := eventPacket(prefix('2', ns), strconv.FormatUint(id, 10), event, args)
	if err != nil {
		return nil, err
	}
	if err := c.write(pkt); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-c.done:
		return nil, ErrClosed
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Ack answers a server event that asked for one.
func (c *Client) Ack(ev Event, args ...any) error {
	if ev.AckID == nil {
		return nil
	}
	b := prefix('3', ev.Namespace)
	b = strconv.AppendUint(b, *ev.AckID, 10)
	if args == nil {
		args = []any{} // an ack's payload is always an array, even an empty one
	}
	payload, err := json.Marshal(args)
	if err != nil {
		return err
	}
	return c.write(append(b, payload...))
}

// Leave sends DISCONNECT for ns.
func (c *Client) Leave(ns string) error { return c.write(prefix('1', ns)) }

// WriteRaw sends one text frame as is (for protocol tests).
func (c *Client) WriteRaw(frame string) error { return c.write([]byte(frame)) }

func eventPacket(b []byte, id, event string, args []any) ([]byte, error) {
	all := append([]any{event}, args...)
	payload, err := json.Marshal(all)
	if err != nil {
		return nil, err
	}
	b = append(b, id...)
	return append(b, payload...), nil
}

func (c *Client) write(b []byte) error {
	if err := c.ws.WriteMessage(OpText, b); err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return nil
}
