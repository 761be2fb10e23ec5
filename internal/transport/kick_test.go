package transport

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDisconnectTrueOverPolling(t *testing.T) {
	_, url := startServer(t, Config{}, func(srv *Server) {
		srv.Of("/")
		srv.Of("/a").OnConnection(func(s *Socket) {
			s.On("kick", func(s *Socket, _ *Message, _ Ack) { s.Disconnect(true) })
		})
	})
	sid := pollingHandshake(t, url)
	u := url + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	post := func(body string) {
		resp, err := http.Post(u, "text/plain", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
	}
	get := func() string {
		resp, err := http.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post("40\x1e40/a,")
	got := get()
	require.Contains(t, got, "40/a,")
	post(`42/a,["kick"]`)
	// The DISCONNECTs first; the close only in the next response, since
	// clients process Socket.IO packets a tick after Engine.IO ones.
	assert.Regexp(t, "^(41/a,\x1e41|41\x1e41/a,)$", get())
	assert.Equal(t, "1", get())
	resp, err := http.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "the session is gone after the close was delivered")
}
