package orders

import "time"

// Duty is whether a driver takes work, as stored: durable per driver so
// that it survives reconnects and reaches every node.
type Duty struct {
	Tenant    string
	DriverID  string
	OnDuty    bool
	UpdatedAt time.Time
}
