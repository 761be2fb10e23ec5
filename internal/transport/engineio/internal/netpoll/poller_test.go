//go:build linux

package netpoll

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"
)

// tsock is a socket driven the way engineio drives a WebSocket: one
// reader at a time, reads that never wait, the poller for the rest.
type tsock struct {
	nc    net.Conn
	watch Watch
	gate  Gate
	poll  *Poller[*tsock]
	wg    *sync.WaitGroup

	handle func([]byte) // runs on the reader, like a packet's handlers
	got    chan []byte
	ended  chan error
}

// run is the reader: it stops when a read finds nothing and no event came
// since it began that read.
func (s *tsock) run(readable bool) {
	defer s.wg.Done()
	buf := make([]byte, 64)
	for {
		if !s.poll.Register(s) {
			s.ended <- errors.New("not registered")
			return
		}
		if !readable && s.gate.Stop() {
			return
		}
		n, err := s.watch.ReadNow(buf)
		if n > 0 {
			b := bytes.Clone(buf[:n])
			s.handle(b)
			s.got <- b
		}
		if err != nil {
			s.ended <- err
			return
		}
		readable = n == len(buf)
	}
}

// pollPair connects a client to a server-side socket watched by a poller
// whose ready hook is onReady (nil: only dispatch).
func pollPair(t *testing.T, handle func([]byte), onReady func(started bool)) (client net.Conn, s *tsock) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server, err := ln.Accept()
	require.NoError(t, err)
	raw, err := server.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)

	wg := &sync.WaitGroup{}
	p, err := New(zaptest.NewLogger(t), func(s *tsock) *Watch { return &s.watch }, func(s *tsock) {
		started := s.gate.Start()
		if started {
			s.wg.Add(1)
			go s.run(true)
		}
		if onReady != nil {
			onReady(started)
		}
	})
	require.NoError(t, err)
	s = &tsock{nc: server, poll: p, wg: wg, handle: handle, got: make(chan []byte, 1024), ended: make(chan error, 1)}
	s.watch.SetConn(raw)
	t.Cleanup(func() {
		_ = client.Close()
		p.Unwatch(s)
		_ = server.Close()
		p.Stop()
		wg.Wait()
	})
	// The first reader holds the socket and hands it to the poller.
	s.gate.Hold()
	wg.Add(1)
	go s.run(false)
	return client, s
}

func receive(t *testing.T, s *tsock) []byte {
	t.Helper()
	select {
	case b := <-s.got:
		return b
	case err := <-s.ended:
		t.Fatalf("reader ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no bytes read in 5 s")
	}
	return nil
}

// Edge-triggered registration reports bytes once. Bytes that arrive while
// the reader is still handling an earlier read must be read by it (the
// gate's "again"): no later event would come for them.
func TestPollerReadsBytesThatArriveDuringHandling(t *testing.T) {
	handling, release := make(chan struct{}), make(chan struct{})
	marked := make(chan struct{}, 16)
	first := true
	client, s := pollPair(t, func(b []byte) {
		if first {
			first = false
			close(handling)
			<-release
		}
	}, func(started bool) {
		if !started {
			marked <- struct{}{}
		}
	})

	_, err := client.Write([]byte("first"))
	require.NoError(t, err)
	select {
	case <-handling:
	case <-time.After(5 * time.Second):
		t.Fatal("first bytes never handled")
	}
	_, err = client.Write([]byte("second"))
	require.NoError(t, err)
	select {
	case <-marked: // the poller saw "second" while the reader was busy
	case <-time.After(5 * time.Second):
		t.Fatal("no event for the second bytes")
	}
	close(release)
	assert.Equal(t, "first", string(receive(t, s)))
	assert.Equal(t, "second", string(receive(t, s)))
}

// Bytes already queued when a socket is registered are reported.
func TestPollerReportsBytesQueuedBeforeRegistration(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()
	_, err = client.Write([]byte("early"))
	require.NoError(t, err)
	raw, err := server.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)

	fired := make(chan struct{}, 4)
	p, err := New(zaptest.NewLogger(t), func(w *Watch) *Watch { return w }, func(*Watch) { fired <- struct{}{} })
	require.NoError(t, err)
	defer p.Stop()
	w := &Watch{}
	w.SetConn(raw)
	// Wait until the bytes are in the socket: a read that finds them
	// without taking them is what ADD must see.
	require.Eventually(t, func() bool {
		var n int
		_ = raw.Control(func(fd uintptr) { n, _, _ = unix.Recvfrom(int(fd), make([]byte, 8), unix.MSG_PEEK|unix.MSG_DONTWAIT) })
		return n > 0
	}, 5*time.Second, time.Millisecond)
	require.True(t, p.Register(w))
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("bytes queued before registration never reported")
	}
	buf := make([]byte, 16)
	n, err := w.ReadNow(buf)
	require.NoError(t, err)
	assert.Equal(t, "early", string(buf[:n]))
	n, err = w.ReadNow(buf)
	require.NoError(t, err, "nothing left: no error, no wait")
	assert.Zero(t, n)
	p.Unwatch(w)
}

// A stream of writes with gaps, against a reader that dawdles over what
// it read: every byte arrives, in order, whatever the interleaving of
// events and reads (run with -race).
func TestPollerLosesNoBytesUnderInterleaving(t *testing.T) {
	client, s := pollPair(t, func([]byte) {
		for range rand.IntN(3) {
			runtime.Gosched()
		}
	}, nil)
	const total = 20000
	want := make([]byte, total)
	for i := range want {
		want[i] = byte('a' + i%26)
	}
	go func() {
		for at := 0; at < total; {
			n := min(1+rand.IntN(40), total-at)
			if _, err := client.Write(want[at : at+n]); err != nil {
				return
			}
			at += n
			if rand.IntN(4) == 0 {
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) // let the reader go idle
			}
		}
	}()
	var got []byte
	for len(got) < total {
		got = append(got, receive(t, s)...)
	}
	require.Equal(t, string(want), string(got))
}

// The end of the stream reaches an idle socket's reader as io.EOF.
func TestPollerReportsPeerClose(t *testing.T) {
	client, s := pollPair(t, func([]byte) {}, nil)
	require.NoError(t, client.Close())
	select {
	case err := <-s.ended:
		require.ErrorIs(t, err, io.EOF)
	case <-time.After(5 * time.Second):
		t.Fatal("peer close never reported")
	}
}
