// Package dispatch is the product: the dispatch use cases with their
// authorisation (Service, shared by the Socket.IO namespaces and the REST
// API), the audience table (role → namespace → own feed → metric label),
// every event name in both directions (events.go, mirroring
// api/asyncapi.yaml), the fan-out rules that turn an order change into
// durable feed records (Records, for delivery's relay), the namespace
// handlers with their JWT middleware and limits, and driver positions
// (location.go). Every lookup is scoped to the caller's tenant, so no
// client can reach another tenant's orders, rooms or users.
//
// The flow: transport → dispatch → delivery → broker/store.
//
// Dependency rule: dispatch uses delivery, orders, geo, auth, transport and
// its own deadline runner (dispatch/deadline)
// through their public APIs only (never transport's subpackages engineio
// or parser), and reaches storage and the broker only through interfaces
// it or delivery declares; nothing it imports may import dispatch.
// import_test.go enforces this.
package dispatch
