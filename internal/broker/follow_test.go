package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type record struct {
	pos     uint64
	subject string
	data    string
}

// publish stores one record per subject, in order, with unique ids.
func publish(t testing.TB, b *Broker, subjects ...string) []record {
	t.Helper()
	out := make([]record, 0, len(subjects))
	for _, s := range subjects {
		var r [8]byte
		_, _ = rand.Read(r[:])
		id := hex.EncodeToString(r[:])
		pos, dup, err := b.Publish(context.Background(), s, id, []byte(id))
		require.NoError(t, err)
		require.False(t, dup)
		out = append(out, record{pos, s, id})
	}
	return out
}

// follower collects what Follow delivers.
type follower struct {
	got   chan record
	calls atomic.Int64
}

func newFollower() *follower { return &follower{got: make(chan record, 10000)} }

func (f *follower) handle(pos uint64, subject string, data []byte) {
	f.calls.Add(1)
	f.got <- record{pos, subject, string(data)}
}

// next waits for n records.
func (f *follower) next(t testing.TB, n int) []record {
	t.Helper()
	out := make([]record, 0, n)
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case r := <-f.got:
			out = append(out, r)
		case <-timeout:
			t.Fatalf("got %d of %d records", len(out), n)
		}
	}
	return out
}

func TestFollow(t *testing.T) {
	forEachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		b := openClosed(t, cfg)
		s := []string{b.EventSubject("t1", "v", "V1"), b.EventSubject("t1", "c", "C1"), b.EventSubject("t2", "p", "~")}
		before := publish(t, b, s...)

		f := newFollower()
		stop, err := b.Follow(ctx, before[0].pos, f.handle)
		require.NoError(t, err)
		assert.Equal(t, before[1:], f.next(t, 2), "records stored before Follow, after the position")
		live := publish(t, b, s...)
		assert.Equal(t, live, f.next(t, 3), "then live records, in order")
		stop()
		stop() // idempotent

		// A second follower sees the next record; the stopped one must not.
		after := publish(t, b, s[0])
		g := newFollower()
		stopG, err := b.Follow(ctx, live[2].pos, g.handle)
		require.NoError(t, err)
		defer stopG()
		assert.Equal(t, after, g.next(t, 1))
		assert.Equal(t, int64(5), f.calls.Load(), "no call after stop, none twice")
		assert.Empty(t, f.got)
	})
}

func TestFollowStopWaitsForHandle(t *testing.T) {
	b := openClosed(t, Config{DataDir: t.TempDir()})
	publish(t, b, b.EventSubject("t1", "v", "V1"), b.EventSubject("t1", "v", "V1"))
	entered := make(chan struct{})
	release := make(chan struct{})
	var running, calls atomic.Int64
	stop, err := b.Follow(context.Background(), 0, func(uint64, string, []byte) {
		running.Add(1)
		defer running.Add(-1)
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
	})
	require.NoError(t, err)
	<-entered
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("stop returned while handle was running")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not return")
	}
	assert.Zero(t, running.Load())
	assert.Equal(t, int64(1), calls.Load(), "the buffered second record is not handed out after stop")
}

// restartableServer is a NATS server with JetStream on a fixed local port
// that can be stopped and started again on the same store.
type restartableServer struct {
	opts *server.Options
	ns   *server.Server
}

func startRestartable(t *testing.T) *restartableServer {
	t.Helper()
	s := &restartableServer{opts: &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoSigs:    true,
		NoLog:     true,
	}}
	s.start(t)
	// Restarts must come back where the client reconnects to.
	s.opts.Port = s.ns.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.stop)
	return s
}

func (s *restartableServer) start(t *testing.T) {
	t.Helper()
	ns, err := server.NewServer(s.opts)
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	s.ns = ns
}

func (s *restartableServer) stop() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

func TestFollowAcrossServerRestart(t *testing.T) {
	ctx := context.Background()
	srv := startRestartable(t)
	b := openClosed(t, Config{URL: srv.ns.ClientURL()})
	subjects := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = b.EventSubject("t1", "d", fmt.Sprint("D", i%3))
		}
		return out
	}
	want := publish(t, b, subjects(5)...)

	f := newFollower()
	stop, err := b.Follow(ctx, 0, f.handle)
	require.NoError(t, err)
	defer stop()
	assert.Equal(t, want, f.next(t, 5))

	srv.stop()
	require.Eventually(t, func() bool { return !b.Conn().IsConnected() }, 10*time.Second, 10*time.Millisecond)
	srv.start(t)
	require.Eventually(t, func() bool { return b.Ready(ctx) == nil }, 20*time.Second, 50*time.Millisecond)

	more := publish(t, b, subjects(5)...)
	want = append(want, more...)
	assert.Equal(t, more, f.next(t, 5), "records after the restart, none skipped")
	assert.Equal(t, int64(10), f.calls.Load(), "none repeated")
	for i := 1; i < len(want); i++ {
		assert.Less(t, want[i-1].pos, want[i].pos)
	}
}
