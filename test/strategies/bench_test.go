//go:build linux

package strategies

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// benchDrivers is the fleet of the dispatch benchmark (issue #13: "at 200
// on-duty drivers").
const benchDrivers = 200

// benchCase is one strategy under the benchmark: the event that is its
// dispatch effect and how many drivers must get it.
type benchCase struct {
	strategy   string
	subscribe  bool   // drivers subscribe to pickups (broadcast's audience)
	effect     string // the event that dispatches an order to a driver
	recipients int
}

// benchCases are the strategies measured.
var benchCases = []benchCase{
	{strategy: "broadcast", subscribe: true, effect: "pickup:available", recipients: benchDrivers},
	{strategy: "auto", effect: "order:assigned", recipients: 1},
	{strategy: "nearest", effect: "pickup:offer", recipients: offerSize},
}

// BenchmarkDispatch measures each strategy's dispatch overhead per order
// through the real binary (built without -race) with 200 drivers on duty
// 200 m apart, each order's pickup at the next driver: one vendor creates
// orders one after another (closed loop:
// the next order goes once every recipient has this one, so orders do not
// queue behind each other), and the benchmark reports, per order, the
// time from the order:create ack to the dispatch effect at its last
// recipient (all 200 subscribers for broadcast, the assigned driver for
// auto, the first ring of 3 for nearest; p50/p99, "ack-" metrics; from the create's send in "send-"
// metrics: the effect may come before the ack), and the server's CPU time
// (user + system, /proc/<pid>/stat) per order. Run it with a fixed count:
//
//	go test -run '^$' -bench BenchmarkDispatch -benchtime 200x ./test/strategies/
func BenchmarkDispatch(b *testing.B) {
	binary := testproc.BuildTWith(b, testproc.BuildOptions{NoRace: true})
	for _, be := range backends() {
		for _, bc := range benchCases {
			benchStrategy(b, binary, be, bc)
		}
	}
}

// benchStrategy sets one fresh server up for bc, outside the timed
// sub-benchmark (which Go runs more than once), and stops it after.
func benchStrategy(b *testing.B, binary string, be backend, bc benchCase) {
	s := startServer(b, binary, be, "DISPATCH_EVENTS_PER_SECOND=10000", "DISPATCH_EVENT_BURST=20000")
	defer s.proc.Stop(b)
	reach := newArrivals(bc.recipients)
	ds := drivers(b, s, benchDrivers, bc.subscribe, func(_ int, r received) {
		if r.name == bc.effect {
			reach.observe(r)
		}
	})
	defer func() {
		for _, d := range ds {
			_ = d.c.Close()
		}
	}()
	vendor := connect(b, s, orders.RoleVendor, "v1")
	idle := idleCPU(b, s.proc.PID())
	b.Run(be.name+"/"+bc.strategy, func(b *testing.B) {
		var fromAck, fromSend []time.Duration
		start, cpu0 := time.Now(), cpuTime(b, s.proc.PID())
		b.ResetTimer()
		for i := range b.N {
			sent := time.Now()
			// Each order's pickup is at the next driver's position, so
			// the orders spread over the fleet as a city's do: no driver
			// piles up hundreds of active orders (each of which every
			// auto dispatch near it would weigh).
			pickup := driverLat(i%benchDrivers + 1)
			res, err := vendor.request("order:create", newOrderAt(fmt.Sprintf("c%d", i), bc.strategy, pickup))
			acked := time.Now()
			if err != nil || code(res) != "" {
				b.Fatalf("order:create: %s %v", res, err)
			}
			var created struct {
				Order order `json:"order"`
			}
			if err := json.Unmarshal(res, &created); err != nil {
				b.Fatal(err)
			}
			last, ok := reach.wait(created.Order.ID, eventWait)
			if !ok {
				b.Fatalf("order %d (%s): %s did not reach %d drivers within %s", i, created.Order.ID, bc.effect, bc.recipients, eventWait)
			}
			fromAck = append(fromAck, last.Sub(acked))
			fromSend = append(fromSend, last.Sub(sent))
		}
		b.StopTimer()
		cpu := cpuTime(b, s.proc.PID()) - cpu0
		// What the server spends with nobody asking (timers, polls),
		// over the same time, is not the orders' doing.
		net := cpu - time.Duration(idle*float64(time.Since(start)))
		b.ReportMetric(quantile(fromAck, 0.50).Seconds()*1e3, "ack-p50-ms")
		b.ReportMetric(quantile(fromAck, 0.99).Seconds()*1e3, "ack-p99-ms")
		b.ReportMetric(quantile(fromSend, 0.50).Seconds()*1e3, "send-p50-ms")
		b.ReportMetric(quantile(fromSend, 0.99).Seconds()*1e3, "send-p99-ms")
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/order")
		b.ReportMetric(float64(net.Microseconds())/float64(b.N), "net-cpu-µs/order")
	})
}

// quantile is the q-quantile of ds (nearest rank); ds is sorted in place.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// idleWindow is how long the benchmark watches a server nobody talks to.
const idleWindow = 2 * time.Second

// idleCPU is the share of a core pid uses while idle, over idleWindow.
func idleCPU(b *testing.B, pid int) float64 {
	b.Helper()
	cpu0 := cpuTime(b, pid)
	<-time.After(idleWindow)
	share := float64(cpuTime(b, pid)-cpu0) / float64(idleWindow)
	b.Logf("idle server: %.1f %% of a core", 100*share)
	return share
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTick = 100

// cpuTime is pid's user + system CPU time so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name may hold spaces and parentheses: fields count
	// from the last ')'; utime and stime are fields 14 and 15.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	return time.Duration(utime+stime) * time.Second / clockTick
}

// arrivals notes, per order, when each of its dispatch events arrived,
// and when the last of want did; the event may come before the order's
// create ack tells its id, so either side makes the entry.
type arrivals struct {
	want int

	mu     sync.Mutex
	orders map[string]*arrival
}

type arrival struct {
	got  int
	last time.Time
	done chan struct{} // closed when got reaches want
}

func newArrivals(want int) *arrivals {
	return &arrivals{want: want, orders: make(map[string]*arrival)}
}

func (a *arrivals) entry(id string) *arrival {
	e := a.orders[id]
	if e == nil {
		e = &arrival{done: make(chan struct{})}
		a.orders[id] = e
	}
	return e
}

// observe counts one dispatch event (on a driver's reader goroutine).
func (a *arrivals) observe(r received) {
	id := orderID(r.body)
	if id == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entry(id)
	e.got++
	if r.at.After(e.last) {
		e.last = r.at
	}
	if e.got == a.want {
		close(e.done)
	}
}

// orderID is the order id of a dispatch event ({ order: { id } }), ""
// when it has none.
func orderID(body json.RawMessage) string {
	var ev struct {
		Order struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	if json.Unmarshal(body, &ev) != nil {
		return ""
	}
	return ev.Order.ID
}

// wait waits up to timeout until order id reached every recipient and
// returns when the last one got it.
func (a *arrivals) wait(id string, timeout time.Duration) (time.Time, bool) {
	a.mu.Lock()
	e := a.entry(id)
	a.mu.Unlock()
	select {
	case <-e.done:
		a.mu.Lock()
		defer a.mu.Unlock()
		return e.last, true
	case <-time.After(timeout):
		return time.Time{}, false
	}
}
