// Package tenants is the dispatch domain: the /vendors, /drivers and
// /customers Socket.IO namespaces and the REST API, JWT authentication and
// role checks at connect time, the order lifecycle and order rooms. Every
// lookup is scoped to the caller's tenant, so no client can reach another
// tenant's orders, rooms or users.
//
// Import rules: tenants may import hub and the public API of transport. It
// must not import cmd or transport's subpackages (engineio, parser), and
// nothing below it (hub, transport, store) may import tenants. It reaches
// storage only through interfaces it or hub declares.
package tenants
