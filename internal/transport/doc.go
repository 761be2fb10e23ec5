// Package transport is a Socket.IO v4 server (protocol v5 over Engine.IO v4):
// namespaces with middleware, per-socket event handlers, acknowledgements in
// both directions, binary attachments and rooms behind an Adapter.
//
// It knows nothing of orders, tenants or drivers: tenant ids and room names
// are opaque strings. It imports nothing from internal/ except its own
// subpackages.
package transport
