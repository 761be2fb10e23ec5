package main

import (
	"context"
	"fmt"
	"io"
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
	AchievedRate    float64 `json:"achieved_rate"` // authenticated CONNECTs completed per second
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
	HoldSeconds     float64 `json:"hold_seconds"`
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
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(cfg.Conns+64) {
		return nil, fmt.Errorf("fd limit %d is below --conns %d (+64): lower --conns (client and server on one machine share the limit)", lim.Cur, cfg.Conns)
	}
	tenant := "b" + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-conns"
	tokens := make([]string, cfg.Conns)
	for i := range tokens {
		if tokens[i], err = signToken(cfg.Secret, tenant, "driver", "d"+itoa(i)); err != nil {
			return nil, err
		}
	}
	res := &ConnsResult{Target: cfg.Conns, Sources: cfg.Sources}
	started := time.Now()
	rss := func() float64 {
		if cfg.PID == 0 {
			return 0
		}
		sleepCtx(ctx, connsSettle)
		ps, err := readProc(cfg.PID)
		if err != nil {
			return 0
		}
		return float64(ps.rss) / (1 << 20)
	}
	res.RSSBeforeMiB = rss()

	smp := newSampler(cfg.PID)
	conns := make([]*conn, cfg.Conns)
	var opened, failed atomic.Int64
	var firstErr atomic.Value
	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	for range min(512, cfg.Conns) {
		wg.Go(func() {
			for i := range jobs {
				dc := dialConfig{u: u, local: sourceAddr(i, cfg.Sources), bufSize: 2048, ns: "/drivers",
					token: tokens[i], passive: true, timeout: cfg.Timeout}
				c, err := dialConn(ctx, dc, i, nil)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				conns[i] = c
				opened.Add(1)
			}
		})
	}
	start := time.Now()
	lastLine := start
	var sch schedule
	sch.setRate(start, 0, cfg.ConnRate)
	for i := range cfg.Conns {
		if d := time.Until(sch.at(int64(i))); d > 0 && !sleepCtx(ctx, d) {
			break
		}
		jobs <- i
		if now := time.Now(); now.Sub(lastLine) >= time.Second && !cfg.Quiet {
			lastLine = now
			fmt.Fprintf(stdout, "t=%3.0fs dialled=%d opened=%d failed=%d\n", now.Sub(start).Seconds(), i+1, opened.Load(), failed.Load())
		}
	}
	close(jobs)
	wg.Wait()
	openTime := time.Since(start)
	res.Opened, res.Failed, res.OpenSeconds = opened.Load(), failed.Load(), openTime.Seconds()
	if res.OpenSeconds > 0 {
		res.AchievedRate = float64(res.Opened) / res.OpenSeconds
	}
	if e, ok := firstErr.Load().(string); ok {
		res.FirstError = e
	}
	fmt.Fprintf(stdout, "opened %d of %d in %s (%.0f/s), %d failed\n", res.Opened, cfg.Conns, openTime.Round(time.Millisecond), res.AchievedRate, res.Failed)
	res.RSSOpenMiB = rss()

	live := func() (n int64) {
		for _, c := range conns {
			if c != nil && !isDone(c) {
				n++
			}
		}
		return n
	}
	holdStart := time.Now()
	tick := time.NewTicker(time.Second)
	for held := false; !held; {
		select {
		case <-ctx.Done():
			held = true
		case now := <-tick.C:
			smp.tick(now, 0, true)
			if now.Sub(holdStart) >= cfg.Hold {
				held = true
			}
			if !cfg.Quiet {
				fmt.Fprintf(stdout, "hold t=%3.0fs open=%d pings=%d%s\n", now.Sub(holdStart).Seconds(), live(), pings(conns), smp.serverText())
			}
		}
	}
	tick.Stop()
	res.HoldSeconds = time.Since(holdStart).Seconds()
	holdEnd := time.Now()
	res.StillOpen = live()
	for _, c := range conns {
		if c == nil {
			continue
		}
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
	res.Pings = pings(conns)
	res.RSSAfterMiB = rss()
	if res.Opened > 0 && res.RSSAfterMiB > 0 {
		res.RSSPerConnBytes = (res.RSSOpenMiB - res.RSSBeforeMiB) * (1 << 20) / float64(res.Opened)
	}
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
	r := &Result{Label: cfg.Label, Mode: cfg.Mode, Config: cfg, StartedAt: started.UTC(), Elapsed: time.Since(started).Seconds(),
		Conns: res, Samples: smp, Saturated: smp.Saturated, Errors: map[string]int64{}}
	if res.Failed > 0 {
		r.Errors["connect_failed"] = res.Failed
	}
	r.judge(cfg.P99Target)
	return r, nil
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
