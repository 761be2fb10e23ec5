//go:build linux

package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// catStats is what one category's items did to the server.
type catStats struct {
	items, frames  int
	sessions       int         // sessions opened for it
	serverClosed   int         // items after which the server had ended the session
	stayedOpen     int         // items after which the session still answered
	stuck          int         // items after which the server neither answered nor closed
	closeCodes     map[int]int // WebSocket close codes (-1: none) of the sessions it ended
	codeExample    map[int]string
	httpStatus     map[int]int // polling: status of the POST
	refusedConnect int         // CONNECTs answered with CONNECT_ERROR
	acks           map[string]int
}

// attacker sends the sweep over workers sessions at a time.
type attacker struct {
	base    string
	tok     tokens
	workers int

	mu         sync.Mutex
	stats      map[string]*catStats
	violations []string
	setupErrs  []string
}

func newAttacker(base string, tok tokens, workers int) *attacker {
	return &attacker{base: base, tok: tok, workers: workers, stats: map[string]*catStats{}}
}

func (a *attacker) run(ctx context.Context, items []item) {
	work := make(chan item)
	var wg sync.WaitGroup
	for range a.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.worker(ctx, work)
		}()
	}
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
}

func (a *attacker) worker(ctx context.Context, work <-chan item) {
	var cur *wsSession
	reusable := false
	defer func() {
		if cur != nil {
			cur.close()
		}
	}()
	for it := range work {
		if ctx.Err() != nil {
			continue
		}
		if it.setup == setupPolling {
			a.runPoll(ctx, it)
			continue
		}
		if cur != nil && (!reusable || cur.setup != it.setup || cur.isDone()) {
			cur.close()
			cur = nil
		}
		opened := false
		if cur == nil {
			var err error
			if cur, err = a.dial(ctx, it.setup); err != nil {
				a.setupErr(fmt.Sprintf("%s: %v", it.cat, err))
				continue
			}
			opened = true
		}
		open := a.runWS(cur, it, opened)
		reusable = open && it.keeps
		if !open {
			cur.close()
			cur = nil
		}
	}
}

// dial opens a session for s, retrying a few times: a refused dial is
// recorded, not fatal (the server may be busy closing others).
func (a *attacker) dial(ctx context.Context, s setup) (*wsSession, error) {
	var err error
	for range 3 {
		var w *wsSession
		token := a.tok.evil[roleOfNS[s.ns()]]
		if w, err = dialWS(ctx, a.base, s, token); err == nil {
			return w, nil
		}
	}
	return nil, err
}

func (a *attacker) cat(name string) *catStats {
	st := a.stats[name]
	if st == nil {
		st = &catStats{closeCodes: map[int]int{}, codeExample: map[int]string{}, httpStatus: map[int]int{}, acks: map[string]int{}}
		a.stats[name] = st
	}
	return st
}

func (a *attacker) setupErr(s string) {
	a.mu.Lock()
	a.setupErrs = append(a.setupErrs, s)
	a.mu.Unlock()
}

// runWS sends it on w, probes, and checks the expectation; it reports
// whether the session is still usable.
func (a *attacker) runWS(w *wsSession, it item, opened bool) bool {
	var msgs []string
	res := gotIt
	sent := 0
	for _, f := range it.frames {
		sent++
		if err := w.write(f); err != nil {
			msgs, res = w.ended()
			break
		}
	}
	if res == gotIt {
		msgs, res = w.probe()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.cat(it.cat)
	st.items++
	st.frames += len(it.frames)
	if opened {
		st.sessions++
	}
	switch res {
	case gotIt:
		st.stayedOpen++
	case sessEnded:
		st.serverClosed++
		code := w.closeCode()
		if st.closeCodes[code] == 0 && len(it.frames) > 0 {
			st.codeExample[code] = clip(fmt.Sprintf("%q", it.frames[0].data), 60)
		}
		st.closeCodes[code]++
	case timedOut:
		st.stuck++
		a.violate(it, fmt.Sprintf("the server neither answered the probe nor closed the session within %s", waitTimeout))
	}
	a.check(st, it, msgs, res)
	return res == gotIt
}

// check compares what came back with the item's expectation. Called
// with a.mu held.
func (a *attacker) check(st *catStats, it item, msgs []string, res waitResult) {
	pre := nsPrefix(it.ns)
	for _, m := range msgs {
		if strings.HasPrefix(m, "44") {
			st.refusedConnect++
		}
	}
	switch it.expect {
	case expClose:
		if res == gotIt {
			a.violate(it, "a protocol violation, but the session stayed open")
		}
	case expOpen:
		if res != gotIt {
			a.violate(it, "harmless input, but the session "+res.String())
		}
	case expAckFail, expAck:
		want := "43" + pre + strconv.FormatUint(it.ackID, 10) + "["
		i := slices.IndexFunc(msgs, func(m string) bool { return strings.HasPrefix(m, want) })
		if i < 0 {
			a.violate(it, "no ack ("+res.String()+")")
			return
		}
		code := ackCode(msgs[i][len(want)-1:])
		st.acks[code]++
		switch {
		case res != gotIt:
			a.violate(it, "acked "+code+", then the session "+res.String())
		case it.expect == expAckFail && code != "invalid_argument":
			a.violate(it, "malformed input acked "+code+", want invalid_argument: "+clip(msgs[i], 200))
		case code == "internal":
			a.violate(it, "acked internal: "+clip(msgs[i], 200))
		}
	case expRefused:
		for _, m := range msgs {
			if strings.HasPrefix(m, "40"+pre+"{") {
				a.violate(it, "CONNECT ACCEPTED: "+clip(m, 200))
				return
			}
		}
		refused := slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "44"+pre) })
		if !refused && res == gotIt {
			a.violate(it, "CONNECT neither refused nor accepted")
		}
	}
}

// ackCode reads an ack's payload: "ok", an error code, or "?".
func ackCode(payload string) string {
	var args []struct {
		OK    bool `json:"ok"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(payload), &args) != nil || len(args) != 1 {
		return "?"
	}
	if args[0].OK {
		return "ok"
	}
	return args[0].Error.Code
}

// violate records a broken expectation. Called with a.mu held.
func (a *attacker) violate(it item, what string) {
	head := ""
	if len(it.frames) > 0 {
		head = clip(string(it.frames[0].data), 120)
	}
	a.violations = append(a.violations, fmt.Sprintf("%s [want %s, setup %s]: %s; frame %q", it.cat, expectNames[it.expect], it.setup.ns(), what, head))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
}

// totals sums the categories.
func (a *attacker) totals() (frames, sessions, closed, stuck int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range a.stats {
		frames += st.frames
		sessions += st.sessions
		closed += st.serverClosed
		stuck += st.stuck
	}
	return
}

// report is one line per category, in table order.
func (a *attacker) report(cats []category) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	lines := []string{fmt.Sprintf("%-17s %6s %6s %8s %7s %6s %5s  %s", "category", "frames", "items", "sessions", "closed", "open", "stuck", "close codes / POST status / acks / refused")}
	for _, c := range cats {
		st := a.cat(c.name)
		var detail string
		if len(st.closeCodes) > 0 {
			detail = fmt.Sprintf("codes %v", st.closeCodes)
		}
		if len(st.httpStatus) > 0 {
			detail += fmt.Sprintf(" POST %v", st.httpStatus)
		}
		if len(st.acks) > 0 {
			detail += fmt.Sprintf(" acks %v", st.acks)
		}
		if st.refusedConnect > 0 {
			detail += fmt.Sprintf(" refused %d", st.refusedConnect)
		}
		for code, ex := range st.codeExample {
			if code != 1000 && code != 1009 {
				detail += fmt.Sprintf(" (%d after %s)", code, ex)
			}
		}
		lines = append(lines, fmt.Sprintf("%-17s %6d %6d %8d %7d %6d %5d  %s", c.name, st.frames, st.items, st.sessions, st.serverClosed, st.stayedOpen, st.stuck, detail))
	}
	return lines
}

// pollWait bounds the GET that tells whether a polling session is still
// there: a live session holds it until the next ping, so giving up on it
// (which ends the session) means "still open".
const pollWait = 300 * time.Millisecond
