//go:build linux

package hostile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// wsSession is one raw attacker WebSocket session: it writes whatever
// it is told, answers the server's pings, and hands every other text
// message to whoever waits.
//
// Goroutines: one reader, which ends when the connection does; close
// waits for it.
type wsSession struct {
	ws    *sioclient.RawConn
	setup setup

	in     chan string   // Socket.IO packets ("4…") from the server
	done   chan struct{} // closed when the reader ends
	closed error         // the reader's error, read after done
	self   atomic.Bool   // we closed it

	probes uint64
}

// waitTimeout bounds every wait for the server: a connect reply, a probe
// pong, the end of a session.
const waitTimeout = 10 * time.Second

// dialWS opens a session and joins / (and the setup's namespace with
// token), so that probes work.
func dialWS(ctx context.Context, base string, s setup, token string) (*wsSession, error) {
	ws, _, err := sioclient.DialEngine(ctx, base, sioclient.RawOptions{Timeout: waitTimeout})
	if err != nil {
		return nil, err
	}
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
		case typ != sioclient.OpText || len(data) == 0:
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
	typ := sioclient.OpText
	if f.binary {
		typ = sioclient.OpBinary
	}
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
	var ce *sioclient.CloseError
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
	_ = w.ws.WriteClose(sioclient.CloseNormal, "")
	_ = w.ws.Close()
	<-w.done
}
