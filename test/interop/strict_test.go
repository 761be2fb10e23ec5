//go:build unix

package interop

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/transport"
	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// strictSendQueue is the slow-consumer server's send queue, in packets:
// small, so that the eviction comes soon after the TCP buffers fill.
const strictSendQueue = 4

// strictServers starts the extra servers of strictclose.test.js and returns
// their environment: SLOW_SERVER_URL, with a send queue of
// strictSendQueue packets, and SHUTDOWN_SERVER_URL, whose POST /shutdown
// starts a server shutdown (the transport's, as dispatchd does on SIGTERM)
// and answers at once.
func strictServers(t *testing.T) []string {
	t.Helper()
	slow := startServer(t, transport.Config{Config: engineio.Config{SendQueue: strictSendQueue}})

	srv := transport.NewServer(transport.Config{}, testLogger(t))
	newFixture(t).mount(srv)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("POST /shutdown", func(w http.ResponseWriter, _ *http.Request) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("shut down transport server: %v", err)
			}
		}()
		w.WriteHeader(http.StatusAccepted)
	})
	shutdown := serveMux(t, srv, mux)
	return []string{"SLOW_SERVER_URL=" + slow, "SHUTDOWN_SERVER_URL=" + shutdown}
}
