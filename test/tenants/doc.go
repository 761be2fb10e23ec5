// Package tenants tests the tenant registry through the real binary: the
// operator's guide in docs/TENANTS.md run verbatim, forged tokens on
// sockets and REST, and a key rotation seen by two nodes.
package tenants
