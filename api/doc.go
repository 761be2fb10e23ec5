// Package api holds dispatchd's wire contracts as machine-readable specs:
// openapi.yaml (OpenAPI 3.1) for the REST API under /api/v1 and
// asyncapi.yaml (AsyncAPI 3.0) for the Socket.IO namespaces. It has no
// code of its own; its tests check asyncapi.yaml against the events the
// server registers and emits, and internal/rest's tests validate every
// REST response against openapi.yaml, so neither document can drift.
//
// Import rules: nothing imports api.
package api
