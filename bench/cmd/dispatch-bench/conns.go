package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ConnsResult is what mode conns measures.
type ConnsResult struct {
	Target          int     `json:"target"`
	Opened          int64   `json:"opened"`
	Failed          int64   `json:"failed"`
	FirstError      string  `json:"first_error,omitempty"`
	OpenSeconds     float64 `json:"open_seconds"`
	AchievedRate    float64 `json:"achieved_rate"` // authenticated CONNECTs (and, with --subscribe, their subscribe acks) completed per second
	Subscribed      bool    `json:"subscribed"`
	Sources         int     `json:"sources"`
	Dropped         int64   `json:"dropped"` // closed by the server during the hold
	DropReason      string  `json:"drop_reason,omitempty"`
	StillOpen       int64   `json:"still_open"`
	Pings           int64   `json:"pings_answered"`
	PingIntervalMs  int64   `json:"ping_interval_ms"`
	MaxPingGapMs    float64 `json:"max_ping_gap_ms"`
	LateHeartbeats  int64   `json:"late_heartbeats"` // sockets that went pingInterval+pingTimeout without a ping
	RSSBeforeMiB    float64 `json:"server_rss_before_mib,omitempty"`
	RSSOpenMiB      float64 `json:"server_rss_open_mib,omitempty"`
	RSSAfterMiB     float64 `json:"server_rss_after_hold_mib,omitempty"`
	RSSPerConnBytes float64 `json:"server_rss_per_conn_bytes,omitempty"`
	// RSSPerConnHeldBytes is the settled figure: RSS after the hold.
	RSSPerConnHeldBytes float64 `json:"server_rss_per_conn_held_bytes,omitempty"`
	HoldSeconds         float64 `json:"hold_seconds"`
}

// connsSettle lets the server's memory settle before each RSS reading.
const connsSettle = 2 * time.Second

// runConns opens --conns idle authenticated driver sockets at --conn-rate,
// spread over --sources loopback addresses, holds them for --hold
// answering heartbeats, and reports rate, memory and drops.
func runConns(ctx context.Context, cfg config, stdout io.Writer) (*Result, error) {
	u, err := wsURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if err := checkFDLimit(cfg.Conns); err != nil {
		return nil, err
	}
	tenant := "b" + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-conns"
	tokens, err := driverTokens(cfg.Secret, tenant, cfg.Conns)
	if err != nil {
		return nil, err
	}
	res := &ConnsResult{Target: cfg.Conns, Sources: cfg.Sources, Subscribed: cfg.Subscribe}
	started := time.Now()
	res.RSSBeforeMiB = serverRSS(ctx, cfg.PID)

	smp := newSampler(cfg.PID)
	conns := dialAll(ctx, cfg, u, tokens, res, stdout)
	res.RSSOpenMiB = serverRSS(ctx, cfg.PID)

	holdStart := time.Now()
	holdConns(ctx, cfg, conns, smp, holdStart, stdout)
	res.HoldSeconds = time.Since(holdStart).Seconds()
	holdEnd := time.Now()
	res.StillOpen = liveConns(conns)
	for _, c := range conns {
		if c != nil {
			res.tally(c, holdEnd)
		}
	}
	res.Pings = pings(conns)
	res.RSSAfterMiB = serverRSS(ctx, cfg.PID)
	if res.Opened > 0 && res.RSSAfterMiB > 0 {
		res.RSSPerConnBytes = (res.RSSOpenMiB - res.RSSBeforeMiB) * (1 << 20) / float64(res.Opened)
		res.RSSPerConnHeldBytes = (res.RSSAfterMiB - res.RSSBeforeMiB) * (1 << 20) / float64(res.Opened)
		fmt.Fprintf(stdout, "server RSS per socket: %.0f B after the connects, %.0f B after the hold\n", res.RSSPerConnBytes, res.RSSPerConnHeldBytes)
	}
	closeConns(conns)
	r := &Result{Label: cfg.Label, Mode: cfg.Mode, Config: cfg, StartedAt: started.UTC(), Elapsed: time.Since(started).Seconds(),
		Conns: res, Samples: smp, Saturated: smp.Saturated, Errors: map[string]int64{}}
	if res.Failed > 0 {
		r.Errors["connect_failed"] = res.Failed
	}
	r.judge(cfg.P99Target)
	return r, nil
}

// checkFDLimit refuses a run that would hit the open-file limit halfway.
func checkFDLimit(conns int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(conns+64) {
		return fmt.Errorf("fd limit %d is below --conns %d (+64): lower --conns (client and server on one machine share the limit)", lim.Cur, conns)
	}
	return nil
}

// driverTokens signs one driver token per socket, before the clock starts.
func driverTokens(secret, tenant string, n int) ([]string, error) {
	tokens := make([]string, n)
	for i := range tokens {
		var err error
		if tokens[i], err = signToken(secret, tenant, "driver", "d"+itoa(i)); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// serverRSS is the server's resident memory in MiB after letting it
// settle; 0 without --pid or when it cannot be read.
func serverRSS(ctx context.Context, pid int) float64 {
	if pid == 0 {
		return 0
	}
	sleepCtx(ctx, connsSettle)
	ps, err := readProc(pid)
	if err != nil {
		return 0
	}
	return float64(ps.rss) / (1 << 20)
}

// dialCounts is what the dialling workers report.
type dialCounts struct {
	opened, failed atomic.Int64
	firstErr       atomic.Value // string
}

// dialAll opens cfg.Conns sockets on the --conn-rate schedule, at most 512
// handshakes at a time, and records the outcome in res. A failed socket
// is nil in the returned slice.
func dialAll(ctx context.Context, cfg config, u *url.URL, tokens []string, res *ConnsResult, stdout io.Writer) []*conn {
	conns := make([]*conn, cfg.Conns)
	var cnt dialCounts
	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	for range min(512, cfg.Conns) {
		wg.Go(func() { dialWorker(ctx, cfg, u, tokens, jobs, conns, &cnt) })
	}
	start := time.Now()
	scheduleDials(ctx, cfg, jobs, &cnt, start, stdout)
	close(jobs)
	wg.Wait()
	openTime := time.Since(start)
	res.Opened, res.Failed, res.OpenSeconds = cnt.opened.Load(), cnt.failed.Load(), openTime.Seconds()
	if res.OpenSeconds > 0 {
		res.AchievedRate = float64(res.Opened) / res.OpenSeconds
	}
	if e, ok := cnt.firstErr.Load().(string); ok {
		res.FirstError = e
	}
	fmt.Fprintf(stdout, "opened %d of %d in %s (%.0f/s), %d failed\n", res.Opened, cfg.Conns, openTime.Round(time.Millisecond), res.AchievedRate, res.Failed)
	return conns
}

// dialWorker dials the sockets whose numbers arrive on jobs.
func dialWorker(ctx context.Context, cfg config, u *url.URL, tokens []string, jobs <-chan int, conns []*conn, cnt *dialCounts) {
	for i := range jobs {
		dc := dialConfig{u: u, local: sourceAddr(i, cfg.Sources), bufSize: 2048, ns: "/drivers",
			token: tokens[i], passive: true, timeout: cfg.Timeout}
		c, err := dialConn(ctx, dc, i, nil)
		if err == nil && cfg.Subscribe {
			if err = subscribePickups(ctx, c, cfg.Timeout); err != nil {
				c.close()
			}
		}
		if err != nil {
			cnt.failed.Add(1)
			cnt.firstErr.CompareAndSwap(nil, err.Error())
			continue
		}
		conns[i] = c
		cnt.opened.Add(1)
	}
}

// subscribePickups sends pickups:subscribe {} on c and waits up to
// timeout for an ok ack.
func subscribePickups(ctx context.Context, c *conn, timeout time.Duration) error {
	res := make(chan error, 1)
	c.emit("pickups:subscribe", []byte("{}"), func(data []byte, _ time.Time) {
		if ok, code := ackResult(data); !ok {
			res <- fmt.Errorf("pickups:subscribe refused: %s", code)
			return
		}
		res <- nil
	})
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-res:
		return err
	case <-c.done:
		return fmt.Errorf("pickups:subscribe: connection closed: %v", c.readErr)
	case <-t.C:
		return errors.New("pickups:subscribe: no ack within --connect-timeout")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// scheduleDials hands socket numbers to the workers at --conn-rate from
// start, printing progress once a second, until all are handed out or ctx
// ends.
func scheduleDials(ctx context.Context, cfg config, jobs chan<- int, cnt *dialCounts, start time.Time, stdout io.Writer) {
	lastLine := start
	var sch schedule
	sch.setRate(start, 0, cfg.ConnRate)
	for i := range cfg.Conns {
		if d := time.Until(sch.at(int64(i))); d > 0 && !sleepCtx(ctx, d) {
			return
		}
		jobs <- i
		if now := time.Now(); now.Sub(lastLine) >= time.Second && !cfg.Quiet {
			lastLine = now
			fmt.Fprintf(stdout, "t=%3.0fs dialled=%d opened=%d failed=%d\n", now.Sub(start).Seconds(), i+1, cnt.opened.Load(), cnt.failed.Load())
		}
	}
}

// holdConns keeps the sockets open for --hold (or until ctx ends),
// sampling and printing once a second.
func holdConns(ctx context.Context, cfg config, conns []*conn, smp *sampler, holdStart time.Time, stdout io.Writer) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			smp.tick(now, 0, true)
			if !cfg.Quiet {
				fmt.Fprintf(stdout, "hold t=%3.0fs open=%d pings=%d%s\n", now.Sub(holdStart).Seconds(), liveConns(conns), pings(conns), smp.serverText())
			}
			if now.Sub(holdStart) >= cfg.Hold {
				return
			}
		}
	}
}

// tally counts one socket's drop and heartbeat gaps at the end of the hold.
func (res *ConnsResult) tally(c *conn, holdEnd time.Time) {
	res.PingIntervalMs = c.pingInterval.Milliseconds()
	gap := max(c.maxPingGap.Load(), holdEnd.UnixNano()-c.lastPing.Load())
	if isDone(c) {
		if res.Dropped == 0 && c.readErr != nil {
			res.DropReason = c.readErr.Error()
		}
		res.Dropped++
		gap = c.maxPingGap.Load()
	}
	res.MaxPingGapMs = max(res.MaxPingGapMs, float64(gap)/1e6)
	if c.pingInterval > 0 && time.Duration(gap) > c.pingInterval+c.pingTimeout {
		res.LateHeartbeats++
	}
}

// liveConns counts the sockets the server has not closed.
func liveConns(conns []*conn) (n int64) {
	for _, c := range conns {
		if c != nil && !isDone(c) {
			n++
		}
	}
	return n
}

// closeConns closes every socket and waits for each reader to stop.
func closeConns(conns []*conn) {
	for _, c := range conns {
		if c != nil {
			c.close()
		}
	}
	for _, c := range conns {
		if c != nil {
			<-c.done
		}
	}
}

func isDone(c *conn) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func pings(conns []*conn) (n int64) {
	for _, c := range conns {
		if c != nil {
			n += c.pings.Load()
		}
	}
	return n
}

// sleepCtx sleeps d and reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
