// Package metrics is the Prometheus view of a dispatchd node: one registry
// per node (no global state), the observers that delivery and dispatch call on
// their hot paths, and gauges read from the node's state at scrape time.
//
// It imports delivery and dispatch only for the interfaces it implements and
// the values it reads; nothing below cmd imports it.
package metrics
