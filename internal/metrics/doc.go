// Package metrics is the Prometheus view of a dispatchd node: one registry
// per node (no global state), the observers that hub and tenants call on
// their hot paths, and gauges read from the node's state at scrape time.
//
// It imports hub and tenants only for the interfaces it implements and
// the values it reads; nothing below cmd imports it.
package metrics
