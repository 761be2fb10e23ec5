// Package delivery is the durable path of every server→client event:
// the Relay moves committed changes from the store's outbox to the log
// (rendered into feed records by rules the caller passes in), and the
// Queues deliver the log to the recipients connected to this node, each
// with its per-recipient seq, an ack as the receipt, and redelivery of
// what was not acknowledged, from a cursor any node can resume.
//
// It knows feeds, recipients, events and orders only as opaque ids and
// bytes. It declares the small interfaces it needs next to the code that
// calls them: Outbox and Recipients (the store), Publisher and Log (the
// broker), Conn (one socket) and Observer (metrics).
//
// Dependency rule: delivery imports nothing from internal/ (the standard
// library and zap only). Callers adapt to it, never the reverse;
// import_test.go enforces this.
package delivery
