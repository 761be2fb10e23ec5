//go:build unix

package browser

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// reconnectWithin bounds how long the board may take to come back once
// the server is up again: socket.io-client's backoff tops out at 5 s by
// default, with jitter.
const reconnectWithin = 15 * time.Second

// TestBoardSurvivesRestart: the board shows an order; the server stops
// (SIGTERM) and starts again on the same port and data directory; the
// board shows it lost the connection, comes back by itself, and shows an
// order posted after the restart, next to the first.
func TestBoardSurvivesRestart(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t)
	board := b.open(t, "board", srv.URL+"/console/#token="+token(t, orders.RoleDispatcher, "dispatcher-1"), 1400, 900)
	board.awaitConnState("connected", settle, "the board signs in")

	before := post(t, srv, "customer-1")
	board.await("order "+before.ID+" ready", settle, "an order shows on the board")

	board.outageFrom.Store(time.Now().UnixMilli())
	srv.Stop(t)
	board.awaitJS(`['reconnecting', 'offline'].includes(document.getElementById('conn').dataset.state)`, settle,
		"the board shows it lost the server")
	stopped := time.Now()
	srv = srv.Restart(t)
	up := time.Now()
	t.Logf("server down for %s", up.Sub(stopped).Round(time.Millisecond))
	board.awaitConnState("connected", reconnectWithin, "the board reconnects by itself")
	back := time.Now()
	board.outageTo.Store(back.UnixMilli())
	t.Logf("board connected again %s after the server was ready", back.Sub(up).Round(time.Millisecond))

	states := board.connStates()
	t.Logf("#conn: %v", states)
	first := slices.Index(states, "connected")
	require.GreaterOrEqual(t, first, 0)
	assert.True(t, slices.ContainsFunc(states[first:], func(s string) bool { return s == "reconnecting" || s == "offline" }),
		"#conn went connected → reconnecting or offline → connected: %v", states)

	after := post(t, srv, "customer-2")
	board.await("order "+after.ID+" ready", settle, "an order posted after the restart shows on the board")
	assert.NotZero(t, eval[int](board, `document.querySelectorAll('#orders [data-order-id="`+before.ID+`"]').length`),
		"the order of before the restart is still on the board")
	// Before the restarted server stops at cleanup (registered after the
	// tab, so it would run first).
	board.close()
}
