package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	url     string
	path    string
	nsp     string
	n       int
	pid     int
	hold    time.Duration
	settle  time.Duration
	workers int
	sources int
	timeout time.Duration
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&c.path, "path", "/socket.io/", "Engine.IO path")
	fs.StringVar(&c.nsp, "ns", "/", "namespace every client joins")
	fs.IntVar(&c.n, "n", 10_000, "number of clients")
	fs.IntVar(&c.pid, "pid", 0, "server process id whose VmRSS is read (0: report no memory)")
	fs.DurationVar(&c.hold, "hold", 30*time.Second, "how long to hold the connections after the last one joined")
	fs.DurationVar(&c.settle, "settle", 5*time.Second, "wait before reading the server's memory, at the start and once all joined")
	fs.IntVar(&c.workers, "workers", 64, "concurrent dials")
	fs.IntVar(&c.sources, "sources", 0, "spread clients over source addresses 127.0.0.1..127.0.0.N (0: one per 20,000 clients)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "handshake and join timeout per client")
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	if c.n <= 0 || c.workers <= 0 {
		return c, errors.New("-n and -workers must be positive")
	}
	if c.sources <= 0 {
		c.sources = (c.n + 19_999) / 20_000
	}
	if c.sources > 254 {
		return c, errors.New("-sources must be at most 254")
	}
	return c, nil
}

// run opens the clients, reports memory and closes them.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	wsURL, err := websocketURL(cfg.url, cfg.path)
	if err != nil {
		return err
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(cfg.n+100) {
		return fmt.Errorf("fd limit %d is below %d clients: raise ulimit -n", lim.Cur, cfg.n)
	}

	before, err := sample(ctx, cfg, "before")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "before: %s\n", before)

	pool := newPool(cfg, wsURL)
	defer pool.closeAll()
	start := time.Now()
	if err := pool.open(ctx, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "opened %d clients in %s (%d failed)\n", pool.live.Load(), time.Since(start).Round(time.Millisecond), pool.failed.Load())

	after, err := sample(ctx, cfg, "after")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "after:  %s\n", after)
	report(stdout, before, after, int(pool.live.Load()))

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(cfg.hold):
	}
	held, err := sample(ctx, cfg, "held")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "held %s: %s (%d clients still open, %d pings answered)\n",
		cfg.hold, held, pool.live.Load(), pool.pongs.Load())
	report(stdout, before, held, int(pool.live.Load()))
	return nil
}

// websocketURL builds the Engine.IO WebSocket URL and refuses any host
// that is not loopback: this tool is for measuring a local server.
func websocketURL(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse -url: %w", err)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("-url host %q is not loopback", host)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("-url scheme %q", u.Scheme)
	}
	u.Path = "/" + strings.Trim(path, "/") + "/"
	u.RawQuery = "EIO=4&transport=websocket"
	return u.String(), nil
}

// memory is one reading of the server's /proc/PID/status.
type memory struct {
	rss, anon, threads int64 // bytes, bytes, count
}

func (m memory) String() string {
	if m.rss == 0 {
		return "memory not read (no -pid)"
	}
	return fmt.Sprintf("VmRSS %.1f MiB, RssAnon %.1f MiB, threads %d",
		float64(m.rss)/(1<<20), float64(m.anon)/(1<<20), m.threads)
}

func sample(ctx context.Context, cfg config, what string) (memory, error) {
	if cfg.pid == 0 {
		return memory{}, nil
	}
	select {
	case <-ctx.Done():
		return memory{}, ctx.Err()
	case <-time.After(cfg.settle):
	}
	m, err := readStatus(cfg.pid)
	if err != nil {
		return m, fmt.Errorf("read memory %s: %w", what, err)
	}
	return m, nil
}

func report(w io.Writer, before, after memory, n int) {
	if n == 0 || after.rss == 0 {
		return
	}
	fmt.Fprintf(w, "per connection: VmRSS %d B, RssAnon %d B (%d connections)\n",
		(after.rss-before.rss)/int64(n), (after.anon-before.anon)/int64(n), n)
}

// pool owns the client connections; closeAll stops their goroutines and
// waits for them.
type pool struct {
	cfg   config
	url   string
	live  atomic.Int64
	pongs atomic.Int64

	failed  atomic.Int64
	mu      sync.Mutex
	clients []*client
	wg      sync.WaitGroup
}

func newPool(cfg config, wsURL string) *pool {
	return &pool{cfg: cfg, url: wsURL, clients: make([]*client, 0, cfg.n)}
}

// open dials cfg.n clients with cfg.workers in parallel.
func (p *pool) open(ctx context.Context, stdout io.Writer) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range p.cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := dialClient(ctx, p.cfg, p.url, i)
				if err != nil {
					p.failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				p.mu.Lock()
				p.clients = append(p.clients, c)
				p.mu.Unlock()
				p.live.Add(1)
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					c.serve(&p.pongs)
					p.live.Add(-1)
				}()
			}
		}()
	}
	progress := max(p.cfg.n/10, 1)
	for i := range p.cfg.n {
		select {
		case <-ctx.Done():
			close(next)
			wg.Wait()
			return ctx.Err()
		case next <- i:
		}
		if (i+1)%progress == 0 {
			fmt.Fprintf(stdout, "dialled %d\n", i+1)
		}
	}
	close(next)
	wg.Wait()
	if f := p.failed.Load(); f > 0 {
		fmt.Fprintf(stdout, "%d clients failed; first error: %v\n", f, firstErr.Load())
	}
	return nil
}

func (p *pool) closeAll() {
	p.mu.Lock()
	cs := p.clients
	p.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
	p.wg.Wait()
}
