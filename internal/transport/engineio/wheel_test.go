package engineio

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWheelCatchesUpAfterStall: a time.Ticker drops the ticks its receiver
// misses, so a wheel that advanced one slot per received tick pushed every
// pending deadline back by the length of any stall of its goroutine (CPU
// starvation, a long firing pass). A ping due during the stall went out a
// stall late, and so did a ping timeout: the official Engine.IO suite,
// on a loaded machine, found its session still open pingInterval +
// pingTimeout after the handshake. The stall is made here by holding the
// wheel's lock, which stops its goroutine as a starved scheduler would.
func TestWheelCatchesUpAfterStall(t *testing.T) {
	const (
		interval = 200 * time.Millisecond // ticks of 20 ms
		stall    = 2 * interval           // the first ping falls due inside it
		// The ping is overdue when the stall ends: it must go out on the
		// next tick, not the 8 ticks a lagging wheel still counts.
		bound = 80 * time.Millisecond
	)
	srv, base, _ := echoServer(t, Config{PingInterval: interval, PingTimeout: interval})
	sid := handshake(t, base)

	release := srv.wheel.Stall()
	time.Sleep(stall)
	release()
	resumed := time.Now()

	status, body := do(t, http.MethodGet, base+"?EIO=4&transport=polling&sid="+sid, "")
	late := time.Since(resumed)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "2", body, "the poll carries the first ping")
	assert.Less(t, late, bound, "the overdue ping went out %s after the stall", late)
}

// TestPollAfterPongDeadlineIsRefused: a session whose pong is overdue is
// dead at that moment, not only once the wheel's goroutine gets to it. The
// official suite polls pingInterval+pingTimeout after the handshake and
// wants 400; on a loaded machine the wheel fired a few ms after that poll
// and the poll was held and answered "1" with 200. The wheel is stalled
// here (its lock held) across the deadline and the poll.
func TestPollAfterPongDeadlineIsRefused(t *testing.T) {
	const interval = 100 * time.Millisecond
	srv, base, closed := echoServer(t, Config{PingInterval: interval, PingTimeout: interval})
	sid := handshake(t, base)
	u := base + "?EIO=4&transport=polling&sid=" + sid
	_, body := do(t, http.MethodGet, u, "")
	require.Equal(t, "2", body) // never answered

	release := srv.wheel.Stall()
	time.Sleep(2 * interval) // well past the pong deadline
	type answer struct {
		status int
		body   string
	}
	got := make(chan answer, 1)
	go func() {
		status, body := do(t, http.MethodGet, u, "")
		got <- answer{status, body}
	}()
	time.Sleep(interval / 2) // the poll is in (held, before the fix)
	release()

	a := <-got
	assert.Equal(t, http.StatusBadRequest, a.status, "poll after the pong deadline answered %q", a.body)
	assert.Equal(t, ReasonPingTimeout, <-closed)
}

// TestPollOnDroppedSessionIsRefused: a GET that looked the session up just
// before a failed session was dropped from the registry (here the client's
// aborted poll ended it) must get the 400 of an unknown session, not the
// "6" kept for a client that closed the session itself. The official suite
// hit it: it aborts a poll and polls again at once. The GET's early lookup
// is reproduced by putting the dropped Conn back in the registry.
func TestPollOnDroppedSessionIsRefused(t *testing.T) {
	srv, base, closed := echoServer(t, Config{})
	sid := handshake(t, base)
	srv.mu.RLock()
	c := srv.sessions[sid]
	srv.mu.RUnlock()
	require.NotNil(t, c)

	c.Close(ReasonTransportClose)
	assert.Equal(t, ReasonTransportClose, <-closed)
	srv.mu.Lock()
	_, still := srv.sessions[sid]
	srv.sessions[sid] = c
	srv.mu.Unlock()
	require.False(t, still, "a failed polling session is dropped at once")

	status, body := do(t, http.MethodGet, base+"?EIO=4&transport=polling&sid="+sid, "")
	assert.Equal(t, http.StatusBadRequest, status, "GET answered %q", body)
	status, body = do(t, http.MethodPost, base+"?EIO=4&transport=polling&sid="+sid, "4hello")
	assert.Equal(t, http.StatusBadRequest, status, "POST answered %q", body)

	srv.mu.Lock()
	delete(srv.sessions, sid)
	srv.mu.Unlock()
}
