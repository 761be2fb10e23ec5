package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// errRefused: the destination is an address the SSRF guard refuses.
var errRefused = errors.New("destination address refused (private, loopback, link-local or unspecified; see webhooks.allow_private)")

// maxURLLen bounds a registered URL.
const maxURLLen = 2048

// refusedAddr reports whether an endpoint may not reach ip: anything that
// is not a public unicast address. IPv4-mapped IPv6 counts as its IPv4.
func refusedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		sharedSpace.Contains(ip)
}

// sharedSpace is the carrier-grade NAT range (RFC 6598), private in all
// but name.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// dialer connects to the resolved address only if the guard allows it:
// the check runs in Control, after resolution, on the very address dialed,
// so a name that resolves to a private address (or is rebound to one
// after registration) is refused too.
func dialer(timeout time.Duration, allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: timeout}
	if allowPrivate {
		return d
	}
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, errRefused)
		}
		if refusedAddr(ap.Addr()) {
			return fmt.Errorf("dial %s: %w", address, errRefused)
		}
		return nil
	}
	return d
}

// checkURL validates a URL at registration: http or https, a host, no
// credentials; and, when the host is an address, one the guard allows.
// Names are checked when dialed.
func checkURL(raw string, allowPrivate bool) error {
	if len(raw) > maxURLLen {
		return orders.Errorf(orders.CodeInvalidArgument, "url is longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return orders.Errorf(orders.CodeInvalidArgument, "url must be an absolute http or https URL")
	}
	if u.User != nil {
		return orders.Errorf(orders.CodeInvalidArgument, "url must not carry credentials")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !allowPrivate && refusedAddr(ip) {
		return orders.Errorf(orders.CodeInvalidArgument, "url's address is private, loopback, link-local or unspecified")
	}
	return nil
}

// dialContext is the dialer's DialContext, named for the transport.
func dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.DialContext
}
