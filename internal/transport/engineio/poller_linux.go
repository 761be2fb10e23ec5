//go:build linux

package engineio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// pollState is the poller's record of one socket, guarded by poller.mu.
// gen tells this registration of an fd number from a later connection's.
type pollState struct {
	fd        int32
	gen       uint32
	added     bool // registered with epoll (its reader alone sets it)
	unwatched bool // closing: never register again
}

// poller watches idle WebSockets with one epoll instance, so a socket with
// nothing to read holds no goroutine. Sockets are registered one-shot
// (EPOLLONESHOT): a readiness event starts one reader (wsSocket.run), which
// re-arms the socket once everything read is parsed and no frame is
// partial. Re-arming has level semantics, so bytes that arrived meanwhile
// fire again at once.
//
// Goroutines: run, started by newPoller and stopped (and waited for) by
// stop. The readers it starts belong to the server's group.
type poller struct {
	epfd   int
	wakefd int // eventfd that stop writes to end run
	log    *zap.Logger

	// life is held for reading around every use of epfd; stop takes it
	// for writing, so epfd is never used once closed (or reused).
	life    sync.RWMutex
	stopped bool

	mu    sync.Mutex
	socks map[int32]*wsSocket // by fd: only sockets registered with epoll
	gen   uint32

	done chan struct{}
}

var errUnwatched = errors.New("socket closing")

func newPoller(log *zap.Logger) (*poller, error) {
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
	p := &poller{
		epfd:   epfd,
		wakefd: wakefd,
		log:    log,
		socks:  make(map[int32]*wsSocket),
		done:   make(chan struct{}),
	}
	go p.run()
	return p, nil
}

// arm asks for one readiness event of s, registering it on first use. It
// fails when s is closing or the poller stopped; the caller then reads
// on its own goroutine.
func (p *poller) arm(s *wsSocket) bool {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.stopped {
		return false
	}
	var opErr error
	// Control holds the connection open: fd cannot be closed, and its
	// number cannot pass to another connection, while we use it.
	err := s.raw.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(fd)}
		if s.poll.added {
			// Racing unwatch is harmless: MOD after its DEL fails
			// (ENOENT), DEL after the MOD removes it.
			ev.Pad = int32(s.poll.gen)
			opErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if s.poll.unwatched {
			opErr = errUnwatched
			return
		}
		p.gen++
		ev.Pad = int32(p.gen)
		if opErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); opErr != nil {
			return
		}
		s.poll = pollState{fd: int32(fd), gen: p.gen, added: true}
		p.socks[int32(fd)] = s
	})
	return err == nil && opErr == nil
}

// unwatch removes s for good. The socket's owner calls it before closing
// the connection.
func (p *poller) unwatch(s *wsSocket) {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.stopped {
		return // epoll is gone, and its registrations with it
	}
	p.mu.Lock()
	s.poll.unwatched = true
	added := s.poll.added
	if added && p.socks[s.poll.fd] == s {
		delete(p.socks, s.poll.fd)
	}
	p.mu.Unlock()
	if added {
		_ = s.raw.Control(func(fd uintptr) {
			_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
		})
	}
}

func (p *poller) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	var ready []*wsSocket
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
			if s := p.socks[ev.Fd]; s != nil && s.poll.gen == uint32(ev.Pad) {
				ready = append(ready, s)
			}
		}
		p.mu.Unlock()
		for i, s := range ready {
			s.dispatch()
			ready[i] = nil
		}
		ready = ready[:0]
	}
}

// stop ends run and closes the epoll instance; it is idempotent.
func (p *poller) stop() {
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
