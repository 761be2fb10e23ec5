package store

import (
	"strings"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// refuseNUL is the store's own guard for what orders.NewOrder.Validate
// already refuses: PostgreSQL rejects NUL in text columns (an internal
// error) where SQLite stores it, so without this the backend would decide
// what a caller that skipped validation gets.
func refuseNUL(tenant, vendorID string, n orders.NewOrder) error {
	fields := []struct{ name, v string }{
		{"tenant", tenant}, {"vendorId", vendorID}, {"store", n.Store}, {"customerId", n.CustomerID},
		{"zone", n.Zone}, {"pickup.address", n.Pickup.Address}, {"dropoff.address", n.Dropoff.Address},
		{"idempotencyKey", n.IdempotencyKey},
	}
	for _, f := range fields {
		if strings.IndexByte(f.v, 0) >= 0 {
			return orders.Errorf(orders.CodeInvalidArgument, "%s must not contain NUL bytes", f.name)
		}
	}
	for _, it := range n.Items {
		if strings.IndexByte(it.Name, 0) >= 0 {
			return orders.Errorf(orders.CodeInvalidArgument, "items[].name must not contain NUL bytes")
		}
	}
	return nil
}

// checkText refuses a registry text a backend would store differently
// (NUL) or that no person needs (over orders.MaxTextLen bytes).
func checkText(v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return orders.Errorf(orders.CodeInvalidArgument, "text must not contain NUL bytes")
	}
	if len(v) > 16*orders.MaxTextLen {
		return orders.Errorf(orders.CodeInvalidArgument, "text longer than %d bytes", 16*orders.MaxTextLen)
	}
	return nil
}
