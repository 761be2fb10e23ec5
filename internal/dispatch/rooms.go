package dispatch

// Room names embed the tenant, so a room can never span tenants. Rooms
// carry only the best-effort driver positions (durable events go through
// delivery's queues): the customers watching an order. Every room name is
// made here and nowhere else; ids are validated before they reach it
// (orders.ValidID).

// OrderRoom holds the customers watching one order (in /customers).
func OrderRoom(tenant, orderID string) string { return "t:" + tenant + ":order:" + orderID }

// BoardRoom holds the dispatchers watching a tenant's board (in
// /dispatchers): zone "" for the whole tenant, else one zone's.
func BoardRoom(tenant, zone string) string {
	if zone == "" {
		return "t:" + tenant + ":board"
	}
	return "t:" + tenant + ":board:zone:" + zone
}

// BoardDriversRoom holds every dispatcher of a tenant that subscribed to
// a board, whatever its zone: drivers have no zone.
func BoardDriversRoom(tenant string) string { return "t:" + tenant + ":board-drivers" }
