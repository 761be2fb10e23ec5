package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// benchRoom is the room every benchmark socket joins.
const benchRoom = "order:tn_7Q2:ord_01HZX4T9K3M8Q2"

// benchPayload is a typical order update (about 200 bytes of JSON).
var benchPayload = json.RawMessage(`{"orderId":"ord_01HZX4T9K3M8Q2","tenantId":"tn_7Q2","status":"picked_up",` +
	`"driverId":"drv_5521","eta":"2024-05-01T12:34:56Z","location":{"lat":52.520008,"lng":13.404954},"seq":1842,"items":3}`)

// benchConfig keeps heartbeats out of the measurement.
func benchConfig(sendQueue int) Config {
	cfg := Config{ConnectTimeout: time.Hour}
	cfg.PingInterval = 10 * time.Minute
	cfg.PingTimeout = 10 * time.Minute
	cfg.SendQueue = sendQueue
	return cfg
}

func benchServer(b *testing.B, cfg Config) *Server {
	b.Helper()
	srv := NewServer(cfg, zap.NewNop())
	srv.Of("/").OnConnection(func(s *Socket) { s.Join(benchRoom) })
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			b.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

// benchPoll runs one in-memory long-polling request against srv.
func benchPoll(b *testing.B, srv *Server, method, query, body string) string {
	b.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, "/socket.io/?EIO=4&transport=polling"+query, nil)
	} else {
		r = httptest.NewRequest(method, "/socket.io/?EIO=4&transport=polling"+query, strings.NewReader(body))
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, query, w.Code, w.Body)
	}
	return w.Body.String()
}

// BenchmarkRoomEmitEnqueue measures the server side of a room broadcast:
// Namespace.To(room).Emit encoding the event once and queueing the shared
// frame to every member. Members are real Engine.IO sessions on HTTP
// long-polling, created through ServeHTTP in memory, so no socket or
// writer goroutine is involved: this is the enqueue cost only, not delivery.
// Queues are drained (timer stopped) before they could fill.
func BenchmarkRoomEmitEnqueue(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			const drainEvery = 200
			srv := benchServer(b, benchConfig(drainEvery+8))
			sids := make([]string, n)
			for i := range sids {
				open := benchPoll(b, srv, http.MethodGet, "", "")
				var hs struct {
					SID string `json:"sid"`
				}
				if err := json.Unmarshal([]byte(strings.TrimPrefix(open, "0")), &hs); err != nil {
					b.Fatalf("handshake %q: %v", open, err)
				}
				sids[i] = hs.SID
				benchPoll(b, srv, http.MethodPost, "&sid="+hs.SID, "40")
			}
			drain := func() {
				for _, sid := range sids {
					benchPoll(b, srv, http.MethodGet, "&sid="+sid, "")
				}
			}
			drain() // the CONNECT replies
			if got := srv.Of("/").Sockets(); got != n {
				b.Fatalf("%d sockets connected, want %d", got, n)
			}
			ns := srv.Of("/")

			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%drainEvery == 0 {
					b.StopTimer()
					drain()
					b.StartTimer()
				}
				if err := ns.To(benchRoom).Emit("order:status", benchPayload); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/recipient")
			if got := srv.Sessions(); got != n {
				b.Fatalf("%d sessions left, want %d (evicted?)", got, n)
			}
		})
	}
}

// BenchmarkRoomEmitFanout measures a room broadcast end to end: one Emit
// until every one of n real WebSocket clients over loopback has read the
// event. Clients and server share this process and its cores, so the
// number (and allocs/op) includes the clients' reading work. n clients
// need 2n file descriptors; sizes the fd limit cannot hold are skipped
// (10,000 needs `ulimit -n 21000` or more).
func BenchmarkRoomEmitFanout(b *testing.B) {
	for _, n := range []int{100, 1_000, 5_000, 10_000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			var lim syscall.Rlimit
			if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(2*n+1000) {
				b.Skipf("needs %d file descriptors, have %d: raise ulimit -n", 2*n+1000, lim.Cur)
			}
			srv := benchServer(b, benchConfig(256))
			hs := httptest.NewUnstartedServer(srv)
			hs.Config.ReadHeaderTimeout = 10 * time.Second
			hs.Start()
			b.Cleanup(hs.Close)
			url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"

			var fan benchFanout
			fan.done = make(chan struct{}, 1)
			clients := make([]*sioclient.RawConn, n)
			var wg sync.WaitGroup
			b.Cleanup(func() {
				for _, ws := range clients {
					if ws != nil {
						_ = ws.Close()
					}
				}
				wg.Wait()
			})
			opts := sioclient.RawOptions{ReadBufferSize: 1024, Timeout: 10 * time.Second}
			for i := range clients {
				ws, _, err := sioclient.DialRaw(context.Background(), url, opts)
				if err != nil {
					b.Fatalf("dial %d: %v", i, err)
				}
				clients[i] = ws
				if _, _, err := ws.ReadMessage(); err != nil { // the open packet
					b.Fatal(err)
				}
				if err := ws.WriteMessage(sioclient.OpText, []byte("40")); err != nil {
					b.Fatal(err)
				}
				if _, msg, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "40{") {
					b.Fatalf("connect reply %q: %v", msg, err)
				}
				wg.Add(1)
				go fan.read(&wg, ws)
			}
			ns := srv.Of("/")
			if got := ns.Sockets(); got != n {
				b.Fatalf("%d sockets connected, want %d", got, n)
			}

			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				fan.target.Store(int64(n))
				if err := ns.To(benchRoom).Emit("order:status", benchPayload); err != nil {
					b.Fatal(err)
				}
				select {
				case <-fan.done:
				case <-time.After(30 * time.Second):
					b.Fatalf("only %d of %d clients got the event", fan.received.Load(), n)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/recipient")
		})
	}
}

// benchFanout counts events received by all clients of one iteration.
type benchFanout struct {
	received atomic.Int64
	target   atomic.Int64
	done     chan struct{}
}

func (f *benchFanout) read(wg *sync.WaitGroup, ws *sioclient.RawConn) {
	defer wg.Done()
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case len(msg) == 1 && msg[0] == byte(engineio.Ping):
			_ = ws.WriteMessage(sioclient.OpText, []byte{byte(engineio.Pong)})
		case bytes.HasPrefix(msg, []byte(`42["order:status"`)):
			if f.received.Add(1) == f.target.Load() {
				f.received.Store(0)
				f.done <- struct{}{}
			}
		}
	}
}
