//go:build linux

package netpoll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Watch is one socket's registration with a Poller; the socket embeds it.
// gen tells this registration of an fd number from a later connection's.
// All but raw are guarded by the poller.
type Watch struct {
	raw       syscall.RawConn
	fd        int32
	gen       uint32
	added     bool // registered with epoll (its reader alone sets it)
	unwatched bool // closing: never register again
}

// Poller watches idle sockets with one epoll instance, so a socket with
// nothing to read holds no goroutine. A socket is registered once,
// edge-triggered (EPOLLET): every batch of bytes that arrives calls ready,
// whether or not a reader is running, and the socket's Gate turns that
// into one reader, or into "read again" for the running one. Before, each
// registration was one-shot and re-armed after every read: one epoll_ctl
// per read (0.17 syscalls per delivered event at 60 orders/s,
// docs/BENCHMARKS.md "Transport syscalls (h-wire)").
//
// Edge-triggered reporting is safe with a reader that stops after a read
// that did not fill its buffer (nginx does the same with EPOLLRDHUP): a
// stream socket's read returns all it has up to the buffer's size, and
// Linux reports the fd again for every skb queued after that read.
//
// S is the socket type (a pointer); watchOf gives its Watch. A generic
// poller keeps its map at one word per socket, as when it knew the type.
//
// Goroutines: run, started by New and stopped (and waited for) by Stop.
// ready runs on it and must not block.
type Poller[S comparable] struct {
	epfd    int
	wakefd  int // eventfd that Stop writes to end run
	log     *zap.Logger
	watchOf func(S) *Watch
	ready   func(S)

	// life is held for reading around every use of epfd; Stop takes it
	// for writing, so epfd is never used once closed (or reused).
	life    sync.RWMutex
	stopped bool

	mu    sync.Mutex
	socks map[int32]S // by fd: only sockets registered with epoll
	gen   uint32

	done chan struct{}
}

var errUnwatched = errors.New("socket closing")

// New starts a poller; ready is called, on the poller's goroutine, for
// each registered socket that bytes (or its end) arrived on.
func New[S comparable](log *zap.Logger, watchOf func(S) *Watch, ready func(S)) (*Poller[S], error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = unix.Close(wakefd)
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	p := &Poller[S]{
		epfd:    epfd,
		wakefd:  wakefd,
		log:     log,
		watchOf: watchOf,
		ready:   ready,
		socks:   make(map[int32]S),
		done:    make(chan struct{}),
	}
	go p.run()
	return p, nil
}

// Register makes sure s is registered, and reports whether the poller
// will call ready for the bytes that arrive from now on. Only the first
// call of a socket makes a syscall. It fails when s is closing, has no
// RawConn or the poller stopped; the caller then reads on its own
// goroutine. A socket that already has bytes fires at once.
func (p *Poller[S]) Register(s S) bool {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.stopped {
		return false
	}
	w := p.watchOf(s)
	if w.raw == nil {
		return false
	}
	if w.added {
		// Unwatch may have run: then the socket is closing and its
		// closer, not a reader, deals with what is left.
		return true
	}
	var opErr error
	// Control holds the connection open: fd cannot be closed, and its
	// number cannot pass to another connection, while we use it.
	err := w.raw.Control(func(fd uintptr) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if w.unwatched {
			opErr = errUnwatched
			return
		}
		p.gen++
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd), Pad: int32(p.gen)}
		if opErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); opErr != nil {
			return
		}
		w.fd, w.gen, w.added = int32(fd), p.gen, true
		p.socks[int32(fd)] = s
	})
	return err == nil && opErr == nil
}

// Unwatch removes s for good. The socket's owner calls it before closing
// the connection, so its fd number cannot be confused with a later
// connection's.
func (p *Poller[S]) Unwatch(s S) {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.stopped {
		return // epoll is gone, and its registrations with it
	}
	w := p.watchOf(s)
	if w.raw == nil {
		return
	}
	p.mu.Lock()
	w.unwatched = true
	added := w.added
	if added && p.socks[w.fd] == s {
		delete(p.socks, w.fd)
	}
	p.mu.Unlock()
	if added {
		_ = w.raw.Control(func(fd uintptr) {
			_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
		})
	}
}

func (p *Poller[S]) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	var (
		ready []S
		zero  S
	)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			// Only a bug gets here; watched sockets then end by
			// ping timeout.
			p.log.Error("epoll wait", zap.Error(err))
			return
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if ev.Fd == int32(p.wakefd) {
				p.mu.Unlock()
				return
			}
			// An event may be stale: its socket closed and the fd number
			// went to a newer one, whose gen differs.
			if s, ok := p.socks[ev.Fd]; ok && p.watchOf(s).gen == uint32(ev.Pad) {
				ready = append(ready, s)
			}
		}
		p.mu.Unlock()
		for i, s := range ready {
			p.ready(s)
			ready[i] = zero
		}
		ready = ready[:0]
	}
}

// Stop ends run and closes the epoll instance; it is idempotent.
func (p *Poller[S]) Stop() {
	p.life.Lock()
	if p.stopped {
		p.life.Unlock()
		return
	}
	p.stopped = true
	p.life.Unlock()
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(p.wakefd, one[:])
	<-p.done
	_ = unix.Close(p.epfd)
	_ = unix.Close(p.wakefd)
	p.mu.Lock()
	clear(p.socks)
	p.mu.Unlock()
}

// ReadNow reads what the socket has without waiting: 0 bytes and no error
// mean nothing is there now (EAGAIN), and the poller will report what
// comes next. The end of the stream is io.EOF.
func (w *Watch) ReadNow(b []byte) (int, error) {
	var (
		n     int
		opErr error
	)
	err := w.raw.Read(func(fd uintptr) bool {
		for {
			n, opErr = unix.Read(int(fd), b)
			if !errors.Is(opErr, unix.EINTR) {
				return true // never park in the runtime's poller
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errors.Is(opErr, unix.EAGAIN):
		return 0, nil
	case opErr != nil:
		return 0, opErr
	case n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return n, nil
}
