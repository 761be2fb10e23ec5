package engineio

import (
	"net"
	"sync"
)

// addrCounts counts open sessions per client address, for the per-address
// limit. Only addresses with sessions are kept.
type addrCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more session of addr unless it has max already (max 0:
// no limit, nothing counted).
func (a *addrCounts) take(addr string, max int) bool {
	if max <= 0 {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = make(map[string]int)
	}
	if a.n[addr] >= max {
		return false
	}
	a.n[addr]++
	return true
}

// give counts one session of addr less; an address never taken is
// ignored (the limit was off when it connected).
func (a *addrCounts) give(addr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n, ok := a.n[addr]; ok {
		if n <= 1 {
			delete(a.n, addr)
		} else {
			a.n[addr] = n - 1
		}
	}
}

// addrOf is the host part of a remote address ("1.2.3.4:5678" → "1.2.3.4").
func addrOf(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}
