// Package hub routes events between rooms and between nodes. It knows
// tenants, rooms, event names and per-recipient delivery (event IDs, seq,
// redelivery of unacknowledged events), but no Socket.IO framing.
//
// Hub declares the small interfaces it needs, Broker (cross-node fan-out, on
// NATS) and Store (durable event queue), next to the code that calls them;
// internal/store and the broker implement them. It publishes an event only
// after the store transaction that produced it has committed.
//
// Import rules: hub imports nothing from internal/ except packages it owns.
// It must not import transport, tenants, store, echo or net/http: callers
// adapt sockets to hub, never the reverse.
package hub
