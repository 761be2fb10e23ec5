package webhooks

import "github.com/dispatchd/dispatchd/internal/orders"

// ErrNotFound: no such endpoint or delivery for this caller. It is the
// contract's not_found, so REST answers 404 with it.
var ErrNotFound = orders.Errorf(orders.CodeNotFound, "no such webhook or delivery")
