package main

import (
	"net"
	"strings"
)

// PublicBase is the base of the links the server hands out (tracking
// links): PublicURL without a trailing slash, or, when unset,
// http://<host>:<port> of Addr, with localhost for a wildcard host — right
// for a server on one's own machine, and the start-up config to change
// behind a proxy or a domain.
func (h HTTPConfig) PublicBase() string {
	if h.PublicURL != "" {
		return strings.TrimRight(h.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(h.Addr)
	if err != nil {
		return "http://localhost"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
