package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fakeSecret = "fake-secret-0123456789abcdef0123456789"

// startFake serves a fake on a free loopback port until the test ends and
// returns its URL.
func startFake(t *testing.T) (string, *fake) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var out syncBuffer
	f := newFake(fakeConfig{secret: fakeSecret, pingInterval: time.Second, pingTimeout: 2 * time.Second}, &out)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("fake did not stop")
		}
		t.Log(out.String())
	})
	return "http://" + l.Addr().String(), f
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBenchAgainstFake runs the bench's dispatch and ramp modes against the
// fake: it must carry the whole scenario with every check passing (seq,
// one winner, every pickup, nothing cross-tenant), over two tenants.
func TestBenchAgainstFake(t *testing.T) {
	url, f := startFake(t)
	dir := t.TempDir()
	bench := func(t *testing.T, name string, args ...string) *Result {
		t.Helper()
		out := filepath.Join(dir, name+".json")
		argv := append([]string{"dispatch-bench"}, args...)
		argv = append(argv, "--url", url, "--secret", fakeSecret, "--quiet", "--connect-timeout", "5s", "--out", out, "--label", name)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stdout bytes.Buffer
		require.NoError(t, run(ctx, argv, &stdout))
		t.Log(stdout.String())
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		var r Result
		require.NoError(t, json.Unmarshal(b, &r))
		return &r
	}
	t.Run("dispatch", func(t *testing.T) {
		r := bench(t, "dispatch", "dispatch", "--rate", "20", "--duration", "2s", "--warmup", "0s", "--tenants", "2",
			"--vendors", "2", "--drivers", "20", "--customers", "10", "--carry", "1200ms", "--drain", "5s", "--p99-target", "500ms")
		assert.True(t, r.Pass, r.Failures)
		assert.Equal(t, int64(40), r.Orders.Completed)
		assert.Equal(t, int64(40*20), r.Events["pickup:available"])
		assert.Equal(t, int64(40*20), r.Events["pickup:taken"])
		assert.Equal(t, int64(40*2*5), r.Events["order:status"], "ready, assigned, picked_up, in_transit, delivered to vendor and customer")
		assert.Equal(t, int64(40), r.Events["order:delivered"])
		assert.Positive(t, r.Events["driver:location"])
		assert.Equal(t, int64(40), r.Claims.OneWinner)
		assert.Equal(t, int64(40*2), r.Claims.AlreadyClaims)
		assert.Zero(t, r.CrossTenant)
		assert.Zero(t, r.Seq.total())
	})
	t.Run("ramp", func(t *testing.T) {
		r := bench(t, "ramp", "ramp", "--rate", "10", "--step", "10", "--step-duration", "1s", "--max-rate", "20",
			"--warmup", "0s", "--vendors", "2", "--drivers", "10", "--customers", "5", "--carry", "300ms", "--drain", "5s")
		assert.True(t, r.Pass, r.Failures)
		assert.Len(t, r.Steps, 2)
		assert.Positive(t, r.SustainedRate)
	})
	// Delivered orders are forgotten: the fake holds only orders in flight.
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, tn := range f.tenants {
		tn.mu.Lock()
		assert.Empty(t, tn.orders, name)
		assert.Empty(t, tn.idem, name)
		tn.mu.Unlock()
	}
}

// fakeClient joins ns of the fake as tenant/role/sub and collects the
// events it receives.
type fakeClient struct {
	c      *conn
	mu     sync.Mutex
	events []string // "name payload"
}

func dialFake(t *testing.T, url, ns, tenant, role, sub string) (*fakeClient, error) {
	t.Helper()
	u, err := wsURL(url)
	require.NoError(t, err)
	tok, err := signToken(fakeSecret, tenant, role, sub)
	require.NoError(t, err)
	fc := &fakeClient{}
	c, err := dialConn(context.Background(), dialConfig{u: u, bufSize: 4096, ns: ns, token: tok, timeout: 5 * time.Second}, 0,
		func(c *conn, f *frame, _ time.Time) {
			if f.ackID >= 0 {
				c.ack(f.ackID)
			}
			fc.mu.Lock()
			fc.events = append(fc.events, string(f.name)+" "+string(f.args))
			fc.mu.Unlock()
		})
	if err != nil {
		return nil, err
	}
	fc.c = c
	t.Cleanup(c.close)
	return fc, nil
}

// call emits and waits for the ack's payload.
func (fc *fakeClient) call(t *testing.T, ev, payload string) string {
	t.Helper()
	res := make(chan string, 1)
	fc.c.emit(ev, []byte(payload), func(data []byte, _ time.Time) { res <- string(data) })
	select {
	case s := <-res:
		return s
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no ack", ev)
		return ""
	}
}

func (fc *fakeClient) waitEvents(t *testing.T, prefix string, n int) []string {
	t.Helper()
	var got []string
	require.Eventually(t, func() bool {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		got = got[:0]
		for _, e := range fc.events {
			if strings.HasPrefix(e, prefix) {
				got = append(got, e)
			}
		}
		return len(got) >= n
	}, 5*time.Second, 10*time.Millisecond)
	return got
}

func TestFakeRefusesBadTokens(t *testing.T) {
	url, f := startFake(t)
	tests := []struct {
		name, ns, role, secret, want string
	}{
		{"role of another namespace", "/drivers", "vendor", fakeSecret, `"code":"forbidden"`},
		{"wrong secret", "/drivers", "driver", "another-secret-0123456789abcdef01234", `"code":"unauthorized"`},
		{"unknown namespace", "/nowhere", "driver", fakeSecret, `"code":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := wsURL(url)
			require.NoError(t, err)
			tok, err := signToken(tt.secret, "t1", tt.role, "x")
			require.NoError(t, err)
			_, err = dialConn(context.Background(), dialConfig{u: u, bufSize: 4096, ns: tt.ns, token: tok, timeout: 5 * time.Second}, 0, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Equal(t, int64(len(tests)), f.refused.Load(), "every refusal is counted")
}

// TestFakeOrderRules: one claim wins, only the winner moves the order on,
// moves follow the lifecycle, and unknown events are answered.
func TestFakeOrderRules(t *testing.T) {
	url, _ := startFake(t)
	vendor, err := dialFake(t, url, "/vendors", "t1", "vendor", "v1")
	require.NoError(t, err)
	d1, err := dialFake(t, url, "/drivers", "t1", "driver", "d1")
	require.NoError(t, err)
	d2, err := dialFake(t, url, "/drivers", "t1", "driver", "d2")
	require.NoError(t, err)
	other, err := dialFake(t, url, "/drivers", "t2", "driver", "d1")
	require.NoError(t, err)
	for _, d := range []*fakeClient{d1, d2, other} {
		assert.Contains(t, d.call(t, "pickups:subscribe", `{}`), `"ok":true,"pickups":[]`)
	}
	ack := vendor.call(t, "order:create", `{"store":"s","customerId":"c1","pickup":{"address":"a","lat":1,"lng":2},"dropoff":{"address":"b","lat":3,"lng":4},"idempotencyKey":"k1"}`)
	require.Contains(t, ack, `"ok":true`)
	id, ok := fieldValue([]byte(ack), "id")
	require.True(t, ok)
	again := vendor.call(t, "order:create", `{"store":"s","customerId":"c1","pickup":{"address":"a","lat":1,"lng":2},"dropoff":{"address":"b","lat":3,"lng":4},"idempotencyKey":"k1"}`)
	id2, _ := fieldValue([]byte(again), "id")
	assert.Equal(t, string(id), string(id2), "same idempotency key, same order")
	ref := `{"orderId":"` + string(id) + `"}`

	avail := d2.waitEvents(t, "pickup:available", 1)
	assert.Contains(t, avail[0], `"seq":1}`)
	assert.Contains(t, avail[0], `"pickup":{"address":"a","lat":1,"lng":2}`)

	steps := []struct {
		who  *fakeClient
		ev   string
		want string
	}{
		{d2, "order:picked_up", `"code":"conflict"`}, // not assigned yet
		{d1, "pickup:claim", `"ok":true`},
		{d2, "pickup:claim", `"code":"already_claimed"`},
		{d1, "pickup:claim", `"ok":true`}, // the winner's retry
		{other, "pickup:claim", `"code":"not_found"`},
		{d2, "order:picked_up", `"code":"forbidden"`},
		{d1, "order:in_transit", `"code":"conflict"`},
		{d1, "order:picked_up", `"status":"picked_up"`},
		{d1, "order:in_transit", `"status":"in_transit"`},
		{d1, "order:delivered", `"status":"delivered"`},
		{d1, "order:delivered", `"code":"not_found"`}, // forgotten once delivered
		{d1, "pickup:decline", `"code":"unknown_event"`},
	}
	for _, s := range steps {
		assert.Contains(t, s.who.call(t, s.ev, ref), s.want, s.ev)
	}
	taken := d2.waitEvents(t, "pickup:taken", 1)
	assert.Contains(t, taken[0], `"seq":2}`)
	st := vendor.waitEvents(t, "order:status", 5)
	for i, want := range []string{"ready", "assigned", "picked_up", "in_transit", "delivered"} {
		assert.Contains(t, st[i], `"status":"`+want+`"`)
	}
	vendor.waitEvents(t, "order:delivered", 1)
	other.mu.Lock()
	assert.Empty(t, other.events, "another tenant hears nothing")
	other.mu.Unlock()
}

func TestObjectValue(t *testing.T) {
	tests := []struct {
		name, in, key, want string
		ok                  bool
	}{
		{"plain", `{"a":1,"pickup":{"lat":1},"b":2}`, "pickup", `{"lat":1}`, true},
		{"nested", `{"pickup":{"x":{"y":"}"},"z":1}}`, "pickup", `{"x":{"y":"}"},"z":1}`, true},
		{"escaped quote", `{"pickup":{"a":"q\"}"}}`, "pickup", `{"a":"q\"}"}`, true},
		{"not an object", `{"pickup":3}`, "pickup", "", false},
		{"key inside a value first", `{"note":"pickup","pickup":{"a":1}}`, "pickup", `{"a":1}`, true},
		{"unterminated", `{"pickup":{"a":1`, "pickup", "", false},
		{"absent", `{"dropoff":{}}`, "pickup", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := objectValue([]byte(tt.in), tt.key)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

// TestFakeClosesSlowClient: a socket whose peer stops reading is closed
// once its backlog passes the limit, counted, logged, and refuses more.
func TestFakeClosesSlowClient(t *testing.T) {
	var out syncBuffer
	f := newFake(fakeConfig{secret: fakeSecret, pingInterval: time.Hour, pingTimeout: time.Hour, maxBacklog: 1024}, &out)
	server, client := net.Pipe() // writes block until the other side reads: it never does
	t.Cleanup(func() { _ = client.Close() })
	c := newFconn(f, server, nil)
	c.ns = "/drivers"
	f.wg.Go(c.writeLoop)
	payload := bytes.Repeat([]byte("x"), 100)
	require.Eventually(t, func() bool {
		c.appendEvent("pickup:available", payload, 1, seqTail)
		return f.evicted.Load() == 1
	}, 5*time.Second, time.Millisecond)
	f.wg.Wait() // the writer returned: the close ended its blocked write
	c.appendEvent("pickup:available", payload, 2, seqTail)
	c.mu.Lock()
	assert.Empty(t, c.out, "a closed socket takes nothing more")
	c.mu.Unlock()
	assert.Equal(t, int64(1), f.evicted.Load())
	assert.Contains(t, out.String(), "client backlog over limit")
}
