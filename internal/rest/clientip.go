package rest

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// proxyClientIP names a request's client for a per-address budget. The
// direct peer is the client, unless it is a proxy on a private, loopback
// or link-local address (the compose nginx): then the client is the
// nearest public address X-Forwarded-For names, read from the right (each
// proxy appends the address it saw, so the left part is whatever the
// client wrote). With no public address in it, the peer stands. An IPv6
// client counts by its /64: one host holds a whole /64, and would
// otherwise get a fresh budget per address.
func proxyClientIP(r *http.Request) string {
	peer := addrOf(r.RemoteAddr)
	if peer.IsValid() && trustedProxy(peer) {
		hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a mangled chain: trust nothing left of it
			}
			if !trustedProxy(a.Unmap()) {
				peer = a.Unmap()
				break
			}
		}
	}
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if peer.Is6() {
		p, _ := peer.Prefix(64)
		return p.String()
	}
	return peer.String()
}

func addrOf(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func trustedProxy(a netip.Addr) bool {
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast()
}
