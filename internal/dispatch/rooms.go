package dispatch

// Room names embed the tenant, so a room can never span tenants. Every
// room name is made here and nowhere else; ids are validated before they
// reach these functions (orders.ValidName / orders.ValidID).

// VendorRoom holds a vendor's sockets (in /vendors).
func VendorRoom(tenant, vendorID string) string { return "t:" + tenant + ":vendor:" + vendorID }

// DriverRoom holds one driver's sockets (in /drivers).
func DriverRoom(tenant, driverID string) string { return "t:" + tenant + ":driver:" + driverID }

// PickupsRoom holds drivers subscribed to a tenant's pickups: zone "" is
// every zone.
func PickupsRoom(tenant, zone string) string {
	if zone == "" {
		return "t:" + tenant + ":pickups"
	}
	return "t:" + tenant + ":pickups:" + zone
}

// OrderRoom holds the customers watching one order (in /customers).
func OrderRoom(tenant, orderID string) string { return "t:" + tenant + ":order:" + orderID }
