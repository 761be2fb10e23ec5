// Package tenants is the tenant registry: organisations sharing one
// dispatchd, with their settings, the keys their tokens must be signed
// with, and the API keys of their backends. The store keeps it; every
// node holds a Cache of it, reloaded within a second of a change on any
// node, which the token verifier and the REST API read.
package tenants
