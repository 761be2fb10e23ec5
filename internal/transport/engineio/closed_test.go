package engineio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// recorder counts what a session's handlers see. A message "kill" makes
// the handler end the session, as the Socket.IO layer does on a
// protocol violation; "drop" ends it as a server's decision.
type recorder struct {
	mu         sync.Mutex
	msgs       []string
	afterClose int // messages handed over once OnClose had run
	closed     bool
	reasons    chan string
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// recordingServer serves sessions whose handlers feed rec.
func recordingServer(t *testing.T, cfg Config) (*Server, string, *recorder) {
	t.Helper()
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 5 * time.Second
		cfg.PingTimeout = 5 * time.Second
	}
	rec := &recorder{reasons: make(chan string, 16)}
	srv := NewServer(cfg, func(c *Conn) {
		c.OnMessage(func(d []byte, _ bool) {
			rec.mu.Lock()
			rec.msgs = append(rec.msgs, string(d))
			if rec.closed {
				rec.afterClose++
			}
			rec.mu.Unlock()
			switch string(d) {
			case "kill":
				c.Close(ReasonParseError)
			case "drop":
				c.Close(ReasonForcedClose)
			}
		})
		c.OnClose(func(reason string) {
			rec.mu.Lock()
			rec.closed = true
			rec.mu.Unlock()
			rec.reasons <- reason
		})
	}, zaptest.NewLogger(t))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		hs.Close()
	})
	return srv, hs.URL + "/engine.io/", rec
}

const unknownSID = `{"code":1,"message":"Session ID unknown"}`

// TestClosedSessionRefusesInput: once a polling session is closed, by the
// client's "1" or by the server, it refuses every request with 400 as an
// unknown sid would, except the GET that learns of the close. Its handler
// is never called again.
func TestClosedSessionRefusesInput(t *testing.T) {
	tests := []struct {
		name      string
		closeWith string // the POST that ends the session
		reason    string
		learn     string // what the next GET answers; "": nothing, it is gone
	}{
		{"client close", "1", ReasonTransportClose, "6"},
		{"server close", "4drop", ReasonForcedClose, "1"},
		{"parse error", "4kill", ReasonParseError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, base, rec := recordingServer(t, Config{})
			sid := handshake(t, base)
			u := base + "?EIO=4&transport=polling&sid=" + sid
			status, _ := do(t, "POST", u, tt.closeWith)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, tt.reason, <-rec.reasons)
			before := rec.messages()

			status, body := do(t, "POST", u, "440")
			assert.Equal(t, http.StatusBadRequest, status, "POST after close")
			assert.JSONEq(t, unknownSID, body)

			ws := "ws" + strings.TrimPrefix(base, "http") + "?EIO=4&transport=websocket&sid=" + sid
			conn, resp, err := wsDial(ws, nil)
			if conn != nil {
				conn.Close()
			}
			require.Error(t, err, "upgrade after close")
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "upgrade after close")

			if tt.learn != "" {
				status, body = do(t, "GET", u, "")
				assert.Equal(t, http.StatusOK, status)
				assert.Equal(t, tt.learn, body, "the GET that learns of the close")
			}
			status, body = do(t, "GET", u, "")
			assert.Equal(t, http.StatusBadRequest, status, "GET once the close is known")
			assert.JSONEq(t, unknownSID, body)

			assert.Equal(t, before, rec.messages(), "handler called after close")
			assert.Zero(t, srv.Count())
		})
	}
}

// TestNothingIsHandledBehindTheEnd: once a packet ends the session (the
// client's close, a bad record, or the handler closing the session), the
// rest of the body or of the WebSocket read is dropped unseen.
func TestNothingIsHandledBehindTheEnd(t *testing.T) {
	many := strings.Repeat("\x1e4kill", 100)
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"client close", "4a\x1e1\x1e4b", []string{"a"}},
		{"bad record", "4a\x1e9\x1e4b", []string{"a"}},
		{"empty record", "4a\x1e\x1e4b", []string{"a"}},
		{"handler closes", "4a\x1e4kill\x1e4b" + many, []string{"a", "kill"}},
		{"handler drops", "4drop\x1e4b", []string{"drop"}},
	}
	for _, tt := range tests {
		t.Run("polling/"+tt.name, func(t *testing.T) {
			_, base, rec := recordingServer(t, Config{})
			sid := handshake(t, base)
			status, _ := do(t, "POST", base+"?EIO=4&transport=polling&sid="+sid, tt.body)
			require.Equal(t, http.StatusOK, status)
			<-rec.reasons
			assert.Equal(t, tt.want, rec.messages())
		})
		t.Run("websocket/"+tt.name, func(t *testing.T) {
			_, base, rec := recordingServer(t, Config{})
			ws := dialRaw(t, base, "?EIO=4&transport=websocket", nil)
			op, _ := ws.read() // open
			require.Equal(t, opText, op)
			// Every packet in one write, so one read sees them all.
			var frames [][]byte
			for rec := range strings.SplitSeq(tt.body, "\x1e") {
				frames = append(frames, textFrame(rec))
			}
			ws.write(frames...)
			<-rec.reasons
			assert.Equal(t, tt.want, rec.messages())
		})
	}
}
