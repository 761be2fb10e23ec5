package engineio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// TestShutdownSpreadsCloses: with 600 sessions and a 300 ms spread the
// closes come in 3 steps (200 each) over about 200 ms; a small node, or
// no spread, closes at once.
func TestShutdownSpreadsCloses(t *testing.T) {
	tests := []struct {
		name     string
		sessions int
		spread   time.Duration
		atLeast  time.Duration
		atMost   time.Duration
	}{
		{"spread", 600, 300 * time.Millisecond, 180 * time.Millisecond, 2 * time.Second},
		{"small node closes at once", 150, 300 * time.Millisecond, 0, 100 * time.Millisecond},
		{"no spread", 600, 0, 0, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var closed atomic.Int64
			srv := NewServer(Config{ShutdownSpread: tt.spread}, func(c *Conn) {
				c.OnClose(func(string) { closed.Add(1) })
			}, zaptest.NewLogger(t))
			hs := httptest.NewServer(srv)
			defer hs.Close()
			for range tt.sessions {
				res, err := http.Get(hs.URL + "/engine.io/?EIO=4&transport=polling")
				require.NoError(t, err)
				res.Body.Close()
				require.Equal(t, http.StatusOK, res.StatusCode)
			}
			require.Equal(t, tt.sessions, srv.Count())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			require.NoError(t, srv.Shutdown(ctx))
			took := time.Since(start)
			assert.GreaterOrEqual(t, took, tt.atLeast)
			assert.LessOrEqual(t, took, tt.atMost)
			assert.Equal(t, 0, srv.Count())
			require.Eventually(t, func() bool { return closed.Load() == int64(tt.sessions) }, 2*time.Second, time.Millisecond)
		})
	}
}

// TestMaxConnectionsPerIP: an address past its share gets 429 with the
// JSON error; closing one of its sessions frees a slot.
func TestMaxConnectionsPerIP(t *testing.T) {
	// Sessions that outlive the test: no heartbeat ends them meanwhile.
	srv, base, _ := echoServer(t, Config{MaxConnectionsPerIP: 2, PingInterval: time.Minute, PingTimeout: time.Minute})
	a := handshake(t, base)
	handshake(t, base)
	status, body := do(t, http.MethodGet, base+"?EIO=4&transport=polling", "")
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.JSONEq(t, `{"code":9,"message":"Too many connections from this address"}`, body)
	require.Equal(t, 2, srv.Count())

	// The client closes one session: its slot is free again at once,
	// though the session stays resolvable for its next poll.
	status, _ = do(t, http.MethodPost, base+"?EIO=4&transport=polling&sid="+a, "1")
	require.Equal(t, http.StatusOK, status)
	handshake(t, base)
	status, _ = do(t, http.MethodGet, base+"?EIO=4&transport=polling", "")
	assert.Equal(t, http.StatusTooManyRequests, status, "and the limit holds again")
}

// TestShutdownWaitsForOnConn: a session is in the registry before onConn
// has set its handlers, and a Shutdown that closed it then ran OnClose's
// read against onConn's write (a data race the race detector caught in
// TestOriginPolicy's cleanup) and found no handler: the session's owner
// never heard of the close. Shutdown now closes a session only once its
// onConn has returned.
func TestShutdownWaitsForOnConn(t *testing.T) {
	inOnConn, release := make(chan struct{}), make(chan struct{})
	closed := make(chan string, 1)
	srv := NewServer(Config{}, func(c *Conn) {
		close(inOnConn)
		<-release
		c.OnClose(func(r string) { closed <- r })
	}, zaptest.NewLogger(t))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	handshook := make(chan int, 1)
	go func() {
		res, err := http.Get(hs.URL + "/engine.io/?EIO=4&transport=polling")
		if err != nil {
			handshook <- 0
			return
		}
		res.Body.Close()
		handshook <- res.StatusCode
	}()
	<-inOnConn
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond) // Shutdown is past its registry snapshot
	close(release)
	require.NoError(t, <-stopped)
	assert.Equal(t, http.StatusOK, <-handshook, "the session was opened before Shutdown began")
	select {
	case r := <-closed:
		assert.Equal(t, ReasonShutdown, r)
	case <-time.After(2 * time.Second):
		t.Fatal("OnClose never ran for the session Shutdown closed")
	}
}
