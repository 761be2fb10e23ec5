package rfc6455

import (
	"context"
	"flag"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/conformance"
)

var update = flag.Bool("update", false, "rewrite the RFC 6455 table in docs/CONFORMANCE.md from this run")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// allCases is the suite, in Autobahn's order.
func allCases() []wsCase {
	var cs []wsCase
	for _, group := range [][]wsCase{framingCases(), pingCases(), reservedBitCases(), opcodeCases(),
		fragmentationCases(), utf8Cases(), closeCases(), limitCases()} {
		cs = append(cs, group...)
	}
	return cs
}

// parallel bounds the cases run at once; the machine is shared.
const parallel = 8

// TestRFC6455 runs every case on both endpoints of the conformance
// fixture (the server `dispatchd conformance` serves) and checks its
// verdict: OK or NON-STRICT (with the reason written) in categories 1–7,
// INFORMATIONAL where Autobahn has no right answer, OK or 1009 BY DESIGN
// in category 9.
func TestRFC6455(t *testing.T) {
	// The fixture of the official suites, with a heartbeat that cannot
	// fire during a case: what is checked here is framing, not pings.
	fx := conformance.New(zap.NewNop(), conformance.WithHeartbeat(time.Minute, time.Minute))
	hs := httptest.NewServer(fx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, fx.Shutdown(ctx))
		hs.Close()
	})
	addr := strings.TrimPrefix(hs.URL, "http://")

	cases := allCases()
	results := make([][]result, len(cases)) // by case, then endpoint
	for i := range cases {
		results[i] = make([]result, len(endpoints))
	}
	// The short cases run several at a time. Category 9 runs one case at
	// a time: its messages are large and its timings are reported.
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for _, heavy := range []bool{false, true} {
		for i, c := range cases {
			if strings.HasPrefix(c.id, "9.") != heavy {
				continue
			}
			for j, ep := range endpoints {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					start := time.Now()
					results[i][j] = runCase(addr, ep, c)
					if d := time.Since(start); d > time.Second {
						t.Logf("slow: %s on %s took %v", c.id, ep.path, d.Round(time.Millisecond))
					}
				}()
				if heavy {
					wg.Wait()
				}
			}
		}
		wg.Wait()
	}

	counts := map[string]int{}
	for i, c := range cases {
		for j, ep := range endpoints {
			r := results[i][j]
			counts[ep.path+" "+r.verdict]++
			assert.Contains(t, allowed(c), r.verdict, "case %s on %s: %s", c.id, ep.path, r.detail)
			if r.verdict == Informational {
				t.Logf("case %s on %s (informational): %s", c.id, ep.path, r.detail)
			}
			if r.verdict == NonStrict {
				assert.NotEmpty(t, c.note, "case %s is NON-STRICT on %s without a reason written", c.id, ep.path)
			}
		}
	}
	t.Logf("%d cases on %d endpoints: %v", len(cases), len(endpoints), counts)
	if *update {
		require.NoError(t, writeTable("../../docs/CONFORMANCE.md", cases, results))
	}
}

// allowed lists the verdicts a case may have.
func allowed(c wsCase) []string {
	switch {
	case c.informational:
		return []string{Informational}
	case c.overLimit:
		return []string{ByDesign}
	case strings.HasPrefix(c.id, "9."):
		return []string{OK}
	case c.hasNonStrict:
		return []string{OK, NonStrict}
	}
	return []string{OK}
}

// runCase runs c on a fresh connection to ep.
func runCase(addr string, ep *endpoint, c wsCase) result {
	cl, err := dial(addr, ep.path)
	if err != nil {
		return result{Failed, "dial: " + err.Error()}
	}
	if err := ep.setup(cl); err != nil {
		_ = cl.rc.Close()
		<-cl.done
		return result{Failed, "setup: " + err.Error()}
	}
	s := &script{c: cl, ep: ep}
	c.run(s)
	if len(c.fail) == 0 && !s.sentClose {
		wait := c.wait
		if wait == 0 {
			wait = 2 * time.Second
		}
		s.waitMessages(len(c.ok), wait)
		s.close(closePayload(1000, ""))
	}
	hungUp, readErr := cl.waitEnd(2 * time.Second)
	o := outcome{closeCode: -1, closedByClient: s.closedByClient, hungUp: hungUp, readErr: readErr}
	for _, e := range ep.unwrap(cl.snapshot()) {
		if e.kind == "close" {
			if o.closeCode < 0 {
				o.closeCode = closeCodeOf(e.data)
			}
			continue
		}
		o.events = append(o.events, e)
	}
	return c.judge(o)
}
