package engineio

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

// Bounds of one FuzzSession run, to keep each one fast. fuzzMaxPayload is
// the server's default: a frame header announcing up to that much must
// cost only the bytes that arrived (seed ws_header_announces_999kB cost
// 900 kB when the parser reserved the announced length).
const (
	fuzzMaxOps     = 32
	fuzzPollWait   = 10 * time.Millisecond // a GET with nothing to answer is given up
	fuzzMaxPayload = 1_000_000
)

// Allocation allowed for a run: fuzzAllocPerByte bytes per byte the
// client sent plus fuzzAllocBase. The base covers the run's own server,
// httptest listener, HTTP client and their connections: measured 235-475
// kB for the seeds (a handshake and a POST: 240 kB; with an upgrade: 380-
// 475 kB), so 1 MB catches a parser that reserves a frame's announced
// length (ws_header_announces_999kB: 1.32 MB before, 21 bytes sent).
// Per byte: 60,000 separators in a POST cost 7 bytes per byte (the body
// read with io.ReadAll's doubling, the decode allocates nothing). A body
// decoded into all its packets at once cost 40 bytes per byte.
const (
	fuzzAllocPerByte = 32
	fuzzAllocBase    = 1 << 20
)

// fuzzOp is one operation on the session, decoded from the fuzz input.
type fuzzOp byte

const (
	opGet          fuzzOp = iota // long-polling GET, given up after fuzzPollWait (see get)
	opPost                       // long-polling POST: 2-byte length, body
	opUpgrade                    // open a WebSocket on the sid (a probe)
	opWSText                     // a masked text frame: 1-byte length, payload
	opWSProbe                    // text frame "2probe"
	opWSUpgrade                  // text frame "5"
	opWSRaw                      // raw bytes on the WebSocket: 1-byte length, bytes
	opWSFrame                    // any frame: flags (FIN bit 7, opcode bits 0-3), 1-byte length, payload
	opWSDisconnect               // the client drops the WebSocket's TCP connection
	fuzzOps
)

// FuzzSession drives one Engine.IO session on an in-process server
// through a sequence of polling GETs and POSTs, a WebSocket upgrade and
// raw frames, then shuts the server down. Invariants:
//   - no message is handed to the handler once OnClose has started, or
//     once the handler itself closed the session;
//   - OnClose runs exactly once;
//   - after Shutdown the session map is empty, no slot is held and no
//     goroutine is left;
//   - the heap allocated during the run is bounded per byte sent.
//
// The input is a list of operations (see fuzzOp): an op byte (mod
// fuzzOps), then its arguments; a short input ends the list.
func FuzzSession(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		runSession(t, in)
	})
}

// sessionProbe records what the session's handlers saw.
type sessionProbe struct {
	closing         atomic.Bool  // OnClose has started
	closedByHandler atomic.Bool  // the message handler closed the session
	closes          atomic.Int64 // OnClose calls
	late            atomic.Int64 // messages handed over once OnClose had started
	delivered       atomic.Int64
}

func runSession(t *testing.T, in []byte) {
	ignore := goleak.IgnoreCurrent()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	probe := &sessionProbe{}
	cfg := Config{
		PingInterval:   30 * time.Second, // no heartbeat within a run: runs are deterministic
		PingTimeout:    30 * time.Second,
		MaxPayload:     fuzzMaxPayload,
		UpgradeTimeout: time.Second,
		WriteTimeout:   100 * time.Millisecond,
		SendQueue:      64,
	}
	srv := NewServer(cfg, func(c *Conn) {
		c.OnMessage(func(d []byte, bin bool) {
			probe.delivered.Add(1)
			if probe.closing.Load() || probe.closedByHandler.Load() {
				probe.late.Add(1)
			}
			switch string(d) {
			case "kill":
				c.Close(ReasonParseError)
				probe.closedByHandler.Store(true)
			case "drop":
				c.Close(ReasonForcedClose)
				probe.closedByHandler.Store(true)
			case "flush":
				c.CloseAfterFlush(ReasonForcedClose)
				probe.closedByHandler.Store(true)
			default:
				_ = c.Send(d, bin)
			}
		})
		c.OnClose(func(string) {
			probe.closing.Store(true)
			probe.closes.Add(1)
		})
	}, zap.NewNop())
	hs := httptest.NewServer(srv)
	client := &fuzzClient{
		t:     t,
		base:  hs.URL + "/engine.io/",
		http:  &http.Client{Transport: &http.Transport{}},
		probe: probe,
	}
	sent := client.run(in)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := srv.Shutdown(ctx)
	cancel()
	client.close()
	hs.Close()
	if err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := srv.Count(); n != 0 {
		t.Fatalf("%d sessions left after shutdown", n)
	}
	if n := srv.count.Load(); n != 0 {
		t.Fatalf("%d session slots held after shutdown", n)
	}
	if client.sid != "" && probe.closes.Load() != 1 {
		t.Fatalf("OnClose ran %d times", probe.closes.Load())
	}
	if n := probe.late.Load(); n > 0 {
		t.Fatalf("%d messages handled after the session closed", n)
	}
	if err := goleak.Find(ignore); err != nil {
		t.Fatalf("goroutines left after shutdown: %v", err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes allocated, %d bytes sent, %d messages handled", alloc, sent, probe.delivered.Load())
	if limit := fuzzAllocPerByte*uint64(sent) + fuzzAllocBase; alloc > limit {
		t.Fatalf("allocated %d bytes for %d bytes sent (limit %d)", alloc, sent, limit)
	}
}

// fuzzClient is the client side of one FuzzSession run.
type fuzzClient struct {
	t     *testing.T
	base  string
	http  *http.Client
	sid   string
	probe *sessionProbe

	ws      *sioclient.RawConn // the WebSocket, once dialled
	drained sync.WaitGroup
}

// run performs the operations in in and returns the bytes sent.
func (c *fuzzClient) run(in []byte) int {
	sent := 0
	if !c.handshake() {
		return 0
	}
	for ops := 0; len(in) > 0 && ops < fuzzMaxOps; ops++ {
		op := fuzzOp(in[0] % byte(fuzzOps))
		in = in[1:]
		switch op {
		case opGet:
			c.get()
		case opPost:
			var body []byte
			body, in = takeLen(in, 2)
			sent += len(body)
			c.post(body)
		case opUpgrade:
			c.upgrade()
		case opWSText:
			var p []byte
			p, in = takeLen(in, 1)
			sent += len(p)
			c.write(rawFrame(true, opText, p, true))
		case opWSProbe:
			sent += 6
			c.write(rawFrame(true, opText, []byte("2probe"), true))
		case opWSUpgrade:
			sent++
			c.write(rawFrame(true, opText, []byte("5"), true))
		case opWSRaw:
			var p []byte
			p, in = takeLen(in, 1)
			sent += len(p)
			c.write(p)
		case opWSFrame:
			if len(in) == 0 {
				return sent
			}
			flags := in[0]
			var p []byte
			p, in = takeLen(in[1:], 1)
			sent += len(p)
			c.write(rawFrame(flags&0x80 != 0, flags&0x0f, p, true))
		case opWSDisconnect:
			if c.ws != nil {
				_ = c.ws.Close()
			}
		}
	}
	return sent
}

// takeLen reads an n-byte little-endian length, then up to that many
// bytes.
func takeLen(in []byte, n int) (data, rest []byte) {
	if len(in) < n {
		return nil, nil
	}
	var l int
	if n == 1 {
		l = int(in[0])
	} else {
		l = int(binary.LittleEndian.Uint16(in))
	}
	in = in[n:]
	l = min(l, len(in))
	return in[:l], in[l:]
}

func (c *fuzzClient) url(transport string) string {
	return c.base + "?EIO=4&transport=" + transport + "&sid=" + url.QueryEscape(c.sid)
}

func (c *fuzzClient) handshake() bool {
	resp, err := c.http.Get(c.base + "?EIO=4&transport=polling")
	if err != nil {
		c.t.Fatalf("handshake: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var open struct{ SID string }
	if resp.StatusCode != http.StatusOK || len(body) == 0 || json.Unmarshal(body[1:], &open) != nil {
		c.t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}
	c.sid = open.SID
	return true
}

// get polls. With a WebSocket open it waits out the server's hold of a
// GET made mid-upgrade (upgradePollHold), else only fuzzPollWait: a GET
// given up ends the session, which would cut most upgrades short.
func (c *fuzzClient) get() {
	wait := fuzzPollWait
	if c.ws != nil {
		wait += upgradePollHold
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url("polling"), nil)
	c.roundTrip(req)
}

// post sends body; a session closed before it (OnClose has started) must
// refuse it as an unknown one.
func (c *fuzzClient) post(body []byte) {
	closed := c.probe.closing.Load()
	req, _ := http.NewRequest(http.MethodPost, c.url("polling"), bytes.NewReader(body))
	status, answer := c.roundTrip(req)
	if closed && (status != http.StatusBadRequest || answer != unknownSID) {
		c.t.Fatalf("POST on a closed session answered %d %q", status, answer)
	}
}

func (c *fuzzClient) roundTrip(req *http.Request) (int, string) {
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "" // a GET given up
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upgrade opens a WebSocket on the sid; its frames from the server are
// read and dropped in the background. A refused upgrade leaves none.
func (c *fuzzClient) upgrade() {
	if c.ws != nil {
		_ = c.ws.Close()
		c.drained.Wait()
		c.ws = nil
	}
	closed := c.probe.closing.Load()
	rc, _, err := sioclient.DialRaw(context.Background(), c.url("websocket"), sioclient.RawOptions{Timeout: time.Second})
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		c.t.Fatalf("dial: %v", err)
	}
	if err != nil {
		return // refused, or given up
	}
	if closed {
		c.t.Fatalf("a closed session upgraded")
	}
	c.ws = rc
	c.drained.Add(1)
	go func() {
		defer c.drained.Done()
		for {
			if _, err := rc.ReadFrame(); err != nil {
				return
			}
		}
	}()
}

// write sends raw bytes on the WebSocket, if one is open; a write the
// server no longer reads gives up quickly.
func (c *fuzzClient) write(b []byte) {
	if c.ws == nil {
		return
	}
	if err := c.ws.WriteRawWithin(b, 50*time.Millisecond); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "timeout") {
		_ = c.ws.Close()
	}
}

func (c *fuzzClient) close() {
	if c.ws != nil {
		_ = c.ws.Close()
		c.drained.Wait()
	}
	c.http.CloseIdleConnections()
}
