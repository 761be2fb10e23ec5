// Package webhooks sends a tenant's order events to the HTTPS endpoints it
// registered: signed (Standard Webhooks), at least once, in order per
// order, resumed from the durable log after any restart.
//
// A webhook sink is a second consumer of the durable log beside the
// sockets' queues (docs/DELIVERY.md): each endpoint has its own cursor, a
// log position below which every record is delivered or given up, stored
// with the endpoint. A node reads an endpoint's vendor-feed records from
// its cursor on (Log.Read) and is woken by the live stream (Log.Follow);
// nothing in the relay or the queues knows of webhooks.
//
// Event types, from the vendor feed's records (the body's data is the
// socket event's payload, without seq):
//
//	order:status, any status        → order.status
//	order:status of a new order     → order.created as well (version 1)
//	order:status failed             → order.failed as well
//	order:status cancelled          → order.cancelled as well
//	order:delivered                 → order.delivered
//
// Each becomes one message: body {"type","timestamp","data"}, timestamp
// the event's own time, and an id (the webhook-id header) derived from the
// event's eventId, the same on every retry and after restarts, for the
// receiver to deduplicate.
//
// An endpoint failing for Config.DisableAfter is disabled, and its vendor
// hears webhook:disabled on its feed: the one record this package writes
// to the log.
//
// One node sends for an endpoint at a time: the nodes take leases on
// endpoints in the store (Config.Lease), so after a node dies another one
// resumes its endpoints from their cursors once its leases run out.
package webhooks
