//go:build unix

package faults

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// streamStats is what checkStream measured of one driver.
type streamStats struct {
	deliveries int             // every pickup:available received, duplicates included
	duplicates int             // received again after a reconnect
	replays    []time.Duration // per reconnect: dial to the first event new to the client
	firsts     []time.Duration // per reconnect: dial to the first event, redelivered or new
}

// checkStream checks one driver's pickups against want, the ids of the
// orders created after it subscribed, in creation order (uncertain: ids
// whose creation may or may not have happened, e.g. a request that timed
// out; they may appear or not). Deduplicated by eventId the driver has
// every wanted order once, in order, with seqs 1, 2, 3, …; a duplicate
// carries its first seq again and only opens a reconnection: each
// connection after the first starts with redeliveries of the events the
// previous ones received last (whose acks may not have been stored), and
// then only new events follow.
func checkStream(t *testing.T, name string, got []pickup, conns []time.Time, want []string, uncertain map[string]bool) streamStats {
	t.Helper()
	st := streamStats{deliveries: len(got)}
	first := make(map[string]pickup, len(got))
	var ids []string
	conn, inReplay := -1, false
	var replayWant uint64 // the seq the next redelivery must carry
	for _, p := range got {
		if p.Conn != conn {
			conn, inReplay = p.Conn, p.Conn > 0
			replayWant = 0
			if p.Conn > 0 && p.Conn < len(conns) {
				st.firsts = append(st.firsts, p.At.Sub(conns[p.Conn]))
			}
		}
		prev, dup := first[p.EventID]
		if !dup {
			if inReplay && p.Conn > 0 && p.Conn < len(conns) {
				st.replays = append(st.replays, p.At.Sub(conns[p.Conn]))
			}
			inReplay = false
			first[p.EventID] = p
			ids = append(ids, p.OrderID)
			if want := uint64(len(ids)); p.Seq != want {
				t.Errorf("%s: event %d (order %s) has seq %d, want %d", name, len(ids), p.OrderID, p.Seq, want)
				return st
			}
			continue
		}
		st.duplicates++
		switch {
		case p.Seq != prev.Seq || p.OrderID != prev.OrderID:
			t.Errorf("%s: event %s redelivered as seq %d (order %s), first seq %d (order %s)", name, p.EventID, p.Seq, p.OrderID, prev.Seq, prev.OrderID)
		case !inReplay:
			t.Errorf("%s: duplicate seq %d on connection %d after new events or on the first connection", name, p.Seq, p.Conn)
		case prev.Conn >= p.Conn:
			t.Errorf("%s: seq %d twice on connection %d", name, p.Seq, p.Conn)
		case replayWant != 0 && p.Seq != replayWant:
			t.Errorf("%s: redelivered seq %d after %d: redeliveries out of order", name, p.Seq, replayWant-1)
		}
		replayWant = p.Seq + 1
	}
	wanted := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return uncertain[id] })
	if !assert.Equal(t, want, wanted, "%s: orders received (deduplicated, in order) differ from the orders created", name) {
		missing := setMinus(want, wanted)
		extra := setMinus(wanted, want)
		t.Logf("%s: %d missing %v, %d unexpected %v", name, len(missing), head(missing), len(extra), head(extra))
	}
	return st
}

// checkReplayTail checks, for a driver that reconnected, that each
// connection's redeliveries are the newest events of the connections
// before it: the run of duplicates ends at the highest seq received
// before the reconnect.
func checkReplayTail(t *testing.T, name string, got []pickup) {
	t.Helper()
	var maxBefore uint64
	for i := 0; i < len(got); {
		conn := got[i].Conn
		j := i
		for j < len(got) && got[j].Conn == conn {
			j++
		}
		seg := got[i:j]
		// the duplicates that open the segment
		k := 0
		for k < len(seg) && seg[k].Seq <= maxBefore {
			k++
		}
		if k > 0 && seg[k-1].Seq != maxBefore {
			t.Errorf("%s: connection %d redelivered up to seq %d, but seq %d had been received before", name, conn, seg[k-1].Seq, maxBefore)
		}
		for _, p := range seg {
			maxBefore = max(maxBefore, p.Seq)
		}
		i = j
	}
}

func setMinus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// percentile returns the p-th percentile (0-100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func fmtDurations(ds []time.Duration) string {
	return fmt.Sprintf("n=%d p50=%s p99=%s max=%s", len(ds),
		percentile(ds, 50).Round(time.Millisecond), percentile(ds, 99).Round(time.Millisecond), percentile(ds, 100).Round(time.Millisecond))
}
