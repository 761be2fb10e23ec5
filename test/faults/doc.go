// Package faults runs the real dispatchd binary through the faults the
// delivery guarantee (CONTRACT.md, "Delivery guarantee") promises to
// survive: a node killed with SIGKILL in a two-node cluster, a single
// embedded node killed and restarted on its data directory, the NATS
// server restarted under load, and a client that never acknowledges.
// Every test is bounded in time and uses loopback only.
//
// Tests that need PostgreSQL or an external NATS skip unless
// DISPATCH_TEST_DATABASE_URL / DISPATCH_TEST_NATS_URL are set; the
// embedded-node tests always run.
package faults
