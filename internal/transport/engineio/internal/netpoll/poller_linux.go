//go:build linux

package netpoll

import (
	"encoding/binary"
	"errors"
	"fmt"
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
// nothing to read holds no goroutine. Sockets are registered one-shot
// (EPOLLONESHOT): a readiness event calls ready (which starts one reader),
// and the reader re-arms the socket once everything read is parsed and no
// frame is partial. Re-arming has level semantics, so bytes that arrived
// meanwhile fire again at once.
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
// each armed socket that became readable.
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

// Arm asks for one readiness event of s, registering it on first use. It
// fails when s is closing, has no RawConn or the poller stopped; the caller
// then reads on its own goroutine.
func (p *Poller[S]) Arm(s S) bool {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.stopped {
		return false
	}
	w := p.watchOf(s)
	if w.raw == nil {
		return false
	}
	var opErr error
	// Control holds the connection open: fd cannot be closed, and its
	// number cannot pass to another connection, while we use it.
	err := w.raw.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(fd)}
		if w.added {
			// Racing Unwatch is harmless: MOD after its DEL fails
			// (ENOENT), DEL after the MOD removes it.
			ev.Pad = int32(w.gen)
			opErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if w.unwatched {
			opErr = errUnwatched
			return
		}
		p.gen++
		ev.Pad = int32(p.gen)
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
