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

	srv.wheel.mu.Lock()
	time.Sleep(stall)
	srv.wheel.mu.Unlock()
	resumed := time.Now()

	status, body := do(t, http.MethodGet, base+"?EIO=4&transport=polling&sid="+sid, "")
	late := time.Since(resumed)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "2", body, "the poll carries the first ping")
	assert.Less(t, late, bound, "the overdue ping went out %s after the stall", late)
}
