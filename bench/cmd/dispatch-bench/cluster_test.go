package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWSURLs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "http://127.0.0.1:8080", want: []string{"ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket"}},
		{in: "http://a:1, http://b:2,", want: []string{
			"ws://a:1/socket.io/?EIO=4&transport=websocket", "ws://b:2/socket.io/?EIO=4&transport=websocket"}},
		{in: " , ", err: true},
		{in: "http://a:1,https://b:2", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			us, err := wsURLs(tc.in)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			got := make([]string, len(us))
			for i, u := range us {
				u.Scheme = "ws"
				got[i] = u.String()
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// TestConnectSpreadsOverURLs gives the scenario two nodes that refuse
// every handshake: each must have been asked for about half of the
// sockets of every role.
func TestConnectSpreadsOverURLs(t *testing.T) {
	var hits [2]atomic.Int64
	urls := ""
	for i := range hits {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits[i].Add(1)
			http.Error(w, "no", http.StatusServiceUnavailable)
		}))
		t.Cleanup(srv.Close)
		if i > 0 {
			urls += ","
		}
		urls += srv.URL
	}
	cfg := config{URL: urls, Secret: "spread-secret-0123456789abcdef0123456789", Tenants: 1,
		Vendors: 4, Drivers: 10, Customers: 6, Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := newBench(ctx, cfg, 1)
	require.NoError(t, err)
	require.Error(t, b.connectAll(ctx), "both nodes refuse")

	// 4+10+6 real sockets and 5+2 canary ones, each role split i%2.
	require.EqualValues(t, 2+5+3+3+1, hits[0].Load())
	require.EqualValues(t, 2+5+3+2+1, hits[1].Load())
}
