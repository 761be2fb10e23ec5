// Package hub holds the fan-out rules (which feed records an order change
// causes, for delivery's relay) and driver positions between nodes and to
// order rooms. The durable path itself is internal/delivery.
//
// Import rules: hub imports delivery and orders; it must not import
// transport, tenants, store, echo or net/http: callers adapt sockets to
// hub, never the reverse.
package hub
