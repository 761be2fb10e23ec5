package main

// Mode fake: the least server that can carry the dispatch scenario, so
// that a run against it measures what the load generator itself can take
// on this machine. It keeps everything in memory, writes nothing to disk,
// checks the JWT's signature and role, and speaks only what the bench
// uses: WebSocket only, one namespace per session, broadcast dispatch,
// seq per recipient, acks read and dropped (no queue, no redelivery).

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeConfig is what mode fake's flags set.
type fakeConfig struct {
	addr                      string
	secret                    string
	pingInterval, pingTimeout time.Duration
	stats                     time.Duration // 0: no stats lines
	maxBacklog                int           // bytes queued for one socket before it is closed; 0: defaultMaxBacklog
}

// fake is one running fake server.
type fake struct {
	cfg fakeConfig
	wg  sync.WaitGroup // every session's reader and writer

	sids, ids atomic.Int64

	// Counters printed on the stats line and at the end.
	conns, refused, evicted, writes, delivered atomic.Int64

	mu       sync.Mutex
	tenants  map[string]*ftenant
	sessions map[*fconn]struct{}
	stopping bool

	outMu sync.Mutex
	out   io.Writer
}

func newFake(cfg fakeConfig, out io.Writer) *fake {
	if cfg.maxBacklog <= 0 {
		cfg.maxBacklog = defaultMaxBacklog
	}
	return &fake{cfg: cfg, out: out, tenants: map[string]*ftenant{}, sessions: map[*fconn]struct{}{}}
}

func (f *fake) logf(format string, args ...any) {
	f.outMu.Lock()
	defer f.outMu.Unlock()
	fmt.Fprintf(f.out, format+"\n", args...)
}

// runFake is mode fake: serve on --addr until ctx ends.
func runFake(ctx context.Context, args []string, stdout io.Writer) error {
	cfg := fakeConfig{}
	fs := flag.NewFlagSet("dispatch-bench fake", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8090", "listen address")
	fs.StringVar(&cfg.secret, "secret", "", "HS256 secret the JWTs are checked with")
	fs.DurationVar(&cfg.pingInterval, "ping-interval", 25*time.Second, "Engine.IO pingInterval")
	fs.DurationVar(&cfg.pingTimeout, "ping-timeout", 20*time.Second, "Engine.IO pingTimeout (announced only)")
	fs.DurationVar(&cfg.stats, "stats", 5*time.Second, "period of the stats line (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.secret == "" || cfg.pingInterval <= 0 || cfg.pingTimeout <= 0 {
		return errors.New("fake needs --secret, and positive --ping-interval and --ping-timeout")
	}
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	f := newFake(cfg, stdout)
	f.logf("fake: listening on %s", l.Addr())
	return f.serve(ctx, l)
}

// serve accepts on l until ctx ends, then closes every session and waits
// for their goroutines.
func (f *fake) serve(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("/socket.io/", f.upgrade)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	if f.cfg.stats > 0 {
		f.wg.Go(func() { f.statsLoop(ctx) })
	}
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shut)
	f.mu.Lock()
	f.stopping = true
	for c := range f.sessions {
		c.close()
	}
	f.mu.Unlock()
	f.wg.Wait()
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	f.logf("fake: stopped: %s", f.counters())
	return err
}

func (f *fake) counters() string {
	return fmt.Sprintf("conns=%d delivered=%d writes=%d refused=%d evicted=%d",
		f.conns.Load(), f.delivered.Load(), f.writes.Load(), f.refused.Load(), f.evicted.Load())
}

func (f *fake) statsLoop(ctx context.Context) {
	tick := time.NewTicker(f.cfg.stats)
	defer tick.Stop()
	last, lastAt := int64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			d := f.delivered.Load()
			if d != last {
				f.logf("fake: %s (%.0f deliveries/s)", f.counters(), float64(d-last)/now.Sub(lastAt).Seconds())
			}
			last, lastAt = d, now
		}
	}
}

// upgrade performs the WebSocket handshake of an Engine.IO v4 websocket
// session and hands the connection to a new session.
func (f *fake) upgrade(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := r.Header.Get("Sec-WebSocket-Key")
	if q.Get("EIO") != "4" || q.Get("transport") != "websocket" || key == "" ||
		!strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		f.refused.Add(1)
		http.Error(w, `{"code":3,"message":"websocket transport only"}`, http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	nc, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	res := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n"
	if _, err := io.WriteString(nc, res); err != nil {
		_ = nc.Close()
		return
	}
	c := newFconn(f, nc, rw.Reader)
	f.mu.Lock()
	if f.stopping {
		f.mu.Unlock()
		_ = nc.Close()
		return
	}
	f.sessions[c] = struct{}{}
	f.wg.Add(1) // the reader; serve starts the writer on the same group
	f.mu.Unlock()
	f.conns.Add(1)
	go func() {
		defer f.wg.Done()
		c.serve()
		f.mu.Lock()
		delete(f.sessions, c)
		f.mu.Unlock()
		f.conns.Add(-1)
	}()
}

// fclaims are the token claims the fake uses.
type fclaims struct{ tenant, role, sub string }

var nsRoles = map[string]string{"/vendors": "vendor", "/drivers": "driver", "/customers": "customer"}

// verify checks an HS256 token against the secret and the namespace's
// role; code is "" when it is accepted.
func (f *fake) verify(token, ns string) (fclaims, string) {
	want, known := nsRoles[ns]
	if !known {
		return fclaims{}, "not_found"
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(f.cfg.secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		return fclaims{}, "unauthorized"
	}
	c := fclaims{}
	c.tenant, _ = claims["tenant"].(string)
	c.role, _ = claims["role"].(string)
	c.sub, _ = claims["sub"].(string)
	if c.tenant == "" || c.sub == "" {
		return fclaims{}, "unauthorized"
	}
	if c.role != want {
		return fclaims{}, "forbidden"
	}
	return c, ""
}

// tenant returns the named tenant, made on first use.
func (f *fake) tenant(name string) *ftenant {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tenants[name]
	if t == nil {
		t = &ftenant{f: f, name: name, users: map[string]*fuser{}, orders: map[string]*forder{}, idem: map[string]*forder{}}
		f.tenants[name] = t
	}
	return t
}
