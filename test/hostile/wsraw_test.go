//go:build linux

package hostile

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsSession is one raw attacker WebSocket session: it writes whatever
// it is told, answers the server's pings, and hands every other text
// message to whoever waits.
//
// Goroutines: one reader, which ends when the connection does; close
// waits for it.
type wsSession struct {
	ws    *websocket.Conn
	setup setup

	wmu sync.Mutex // gorilla allows one writer at a time

	in     chan string   // Socket.IO packets ("4…") from the server
	done   chan struct{} // closed when the reader ends
	closed error         // the reader's error, read after done
	self   atomic.Bool   // we closed it

	probes uint64
}

// waitTimeout bounds every wait for the server: a connect reply, a probe
// pong, the end of a session.
const waitTimeout = 10 * time.Second

var dialer = websocket.Dialer{HandshakeTimeout: waitTimeout, ReadBufferSize: 4096, WriteBufferSize: 4096}

// dialWS opens a session and joins / (and the setup's namespace with
// token), so that probes work.
func dialWS(ctx context.Context, base string, s setup, token string) (*wsSession, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Path, u.RawQuery = "ws", "/socket.io/", "EIO=4&transport=websocket"
	ws, _, err := dialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(waitTimeout))
	_, open, err := ws.ReadMessage()
	if err != nil || len(open) == 0 || open[0] != '0' {
		_ = ws.Close()
		return nil, fmt.Errorf("no open packet (%q): %v", open, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	w := &wsSession{ws: ws, setup: s, in: make(chan string, 4096), done: make(chan struct{}), probes: probeBase}
	go w.read()
	if err := w.join("/", ""); err != nil {
		w.close()
		return nil, err
	}
	if s != setupMain {
		if err := w.join(s.ns(), `{"token":"`+token+`"}`); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *wsSession) join(ns, auth string) error {
	if err := w.write(frame{data: []byte("40" + nsPrefix(ns) + auth)}); err != nil {
		return err
	}
	want := "40" + nsPrefix(ns) + "{"
	msgs, res := w.await(func(m string) bool { return strings.HasPrefix(m, want) || strings.HasPrefix(m, "44"+nsPrefix(ns)) })
	if res != gotIt || !strings.HasPrefix(msgs[len(msgs)-1], want) {
		return fmt.Errorf("join %s: %s %q", ns, res, msgs)
	}
	return nil
}

func (w *wsSession) read() {
	defer close(w.done)
	for {
		typ, data, err := w.ws.ReadMessage()
		if err != nil {
			w.closed = err
			return
		}
		switch {
		case typ != websocket.TextMessage || len(data) == 0:
		case string(data) == "2":
			_ = w.write(frame{data: []byte("3")})
		case data[0] == '4':
			select {
			case w.in <- string(data):
			default: // nobody reads them: events for the attacker's users
			}
		}
	}
}

func (w *wsSession) write(f frame) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	typ := websocket.TextMessage
	if f.binary {
		typ = websocket.BinaryMessage
	}
	_ = w.ws.SetWriteDeadline(time.Now().Add(waitTimeout))
	return w.ws.WriteMessage(typ, f.data)
}

// waitResult is how a wait for the server ended.
type waitResult int

const (
	gotIt     waitResult = iota // the awaited packet came
	sessEnded                   // the session ended first
	timedOut                    // neither, within waitTimeout
)

func (r waitResult) String() string {
	return [...]string{"answered", "session ended", "timed out"}[r]
}

// await collects packets until one satisfies done (it is the last one
// returned), the session ends, or waitTimeout passes.
func (w *wsSession) await(done func(string) bool) ([]string, waitResult) {
	var msgs []string
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case m := <-w.in:
			msgs = append(msgs, m)
			if done(m) {
				return msgs, gotIt
			}
		case <-w.done:
			// Take what arrived before the end.
			for {
				select {
				case m := <-w.in:
					msgs = append(msgs, m)
					if done(m) {
						return msgs, gotIt
					}
				default:
					return msgs, sessEnded
				}
			}
		case <-timer.C:
			return msgs, timedOut
		}
	}
}

// probe asks / for a pong: whether the session is still there and has
// handled everything sent before. It returns every packet that came
// before the answer.
func (w *wsSession) probe() ([]string, waitResult) {
	w.probes++
	id := strconv.FormatUint(w.probes, 10)
	if err := w.write(frame{data: []byte("42" + id + `["ping"]`)}); err != nil {
		return w.ended()
	}
	want := "43" + id + `["pong"]`
	return w.await(func(m string) bool { return m == want })
}

// ended waits for the reader to notice a connection whose write failed.
func (w *wsSession) ended() ([]string, waitResult) {
	msgs, res := w.await(func(string) bool { return false })
	return msgs, res
}

// closeCode is the WebSocket close code the server sent, or -1 for none
// (the connection just ended). Call it after done.
func (w *wsSession) closeCode() int {
	var ce *websocket.CloseError
	if errors.As(w.closed, &ce) {
		return ce.Code
	}
	return -1
}

func (w *wsSession) isDone() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// close ends the session from our side and waits for the reader.
func (w *wsSession) close() {
	w.self.Store(true)
	w.wmu.Lock()
	_ = w.ws.SetWriteDeadline(time.Now().Add(time.Second))
	_ = w.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	w.wmu.Unlock()
	_ = w.ws.Close()
	<-w.done
}
