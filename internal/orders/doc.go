// Package orders is the dispatch domain free of transport and storage: the
// order, its lifecycle state machine, payload validation and the error
// codes clients see. It imports nothing from internal/.
package orders
