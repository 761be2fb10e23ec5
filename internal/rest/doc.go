// Package rest is the REST API under /api/v1: order creation, lookup,
// listing, cancellation and event logs over bearer JWTs. It is a thin
// HTTP edge over dispatch.Service, which owns the use cases and their
// authorisation, so sockets and REST behave alike. api/openapi.yaml
// describes it, and the tests validate every response against that
// document.
//
// Import rules: rest imports dispatch, auth, orders, tenants (the
// registry's types) and echo. Nothing but
// cmd imports rest; it must not import transport, delivery or store.
package rest
