// Package transport is a Socket.IO v4 server (protocol v5 over Engine.IO v4):
// namespaces with middleware, per-socket event handlers, acknowledgements in
// both directions, binary attachments and rooms behind an Adapter.
//
// It knows nothing of orders, tenants or drivers: tenant ids and room names
// are opaque strings. It imports nothing from internal/ except its own
// subpackages.
//
// Locks: no handler, middleware or callback runs under a lock of this
// package, and sending never blocks, so the product may send holding its
// own locks. The order of every lock, across packages, is in
// docs/LOCKING.md.
package transport
