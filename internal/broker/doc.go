// Package broker connects dispatchd to NATS with JetStream: an embedded
// server in the same process by default (file store in the data
// directory, fsync after every write, no listening port), or an external
// server or cluster when a URL is configured. Both take the same code path
// after the connection is made.
//
// The stream is the cluster's ordered log of feed records under
// Prefix.ev.>; a record's position is its stream sequence. Nodes Follow the
// whole log and Read a user's subjects between two positions to redeliver.
// Best-effort messages (LocationSubject) share the prefix but are never
// stored.
//
// It imports internal/delivery only for the types of the interfaces
// delivery declares (Publisher, Log) and pins itself to them; nothing else
// of internal/. Its best-effort side serves dispatch.Positions.
package broker
