package orders

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on client-supplied fields; they keep rows, room names and NATS
// subjects small and safe.
const (
	MaxNameLen    = 64  // tenant, user, zone ids
	MaxTextLen    = 200 // store name, address, item name
	MaxItems      = 100
	MaxItemQty    = 10000
	MaxIdemKeyLen = 128
)

// NewOrder is what a vendor submits.
type NewOrder struct {
	Store          string `json:"store"`
	CustomerID     string `json:"customerId"`
	Zone           string `json:"zone,omitempty"`
	Pickup         Place  `json:"pickup"`
	Dropoff        Place  `json:"dropoff"`
	Items          []Item `json:"items,omitempty"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// Validate reports the first problem of n as an invalid_argument error.
func (n *NewOrder) Validate() error {
	if err := checkText("store", n.Store); err != nil {
		return err
	}
	if !ValidName(n.CustomerID) {
		return Errorf(CodeInvalidArgument, "customerId must be 1-%d letters, digits, '_' or '-'", MaxNameLen)
	}
	if err := CheckZone(n.Zone); err != nil {
		return err
	}
	if err := n.Pickup.validate("pickup"); err != nil {
		return err
	}
	if err := n.Dropoff.validate("dropoff"); err != nil {
		return err
	}
	if len(n.Items) > MaxItems {
		return Errorf(CodeInvalidArgument, "at most %d items", MaxItems)
	}
	for _, it := range n.Items {
		if err := checkText("items[].name", it.Name); err != nil {
			return err
		}
		if it.Qty < 1 || it.Qty > MaxItemQty {
			return Errorf(CodeInvalidArgument, "items[].qty must be 1-%d", MaxItemQty)
		}
	}
	if len(n.IdempotencyKey) > MaxIdemKeyLen || !utf8.ValidString(n.IdempotencyKey) {
		return Errorf(CodeInvalidArgument, "idempotencyKey must be at most %d bytes of UTF-8", MaxIdemKeyLen)
	}
	return nil
}

func (p Place) validate(field string) error {
	if err := checkText(field+".address", p.Address); err != nil {
		return err
	}
	if err := CheckCoordinates(p.Lat, p.Lng); err != nil {
		return Errorf(CodeInvalidArgument, "%s: %s", field, err.(*Error).Message)
	}
	return nil
}

// CheckCoordinates validates a latitude/longitude pair.
func CheckCoordinates(lat, lng float64) error {
	if math.IsNaN(lat) || math.IsNaN(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return Errorf(CodeInvalidArgument, "lat must be in [-90, 90] and lng in [-180, 180]")
	}
	return nil
}

func checkText(field, s string) error {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxTextLen || !utf8.ValidString(s) {
		return Errorf(CodeInvalidArgument, "%s must be 1-%d bytes of text", field, MaxTextLen)
	}
	return nil
}

// ValidName reports whether s may be a tenant, user or zone id: it ends up
// in room names and NATS subjects, so only [A-Za-z0-9_-], 1-64 long.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckZone validates an optional zone ("" is every zone).
func CheckZone(zone string) error {
	if zone != "" && !ValidName(zone) {
		return Errorf(CodeInvalidArgument, "zone must be 1-%d letters, digits, '_' or '-'", MaxNameLen)
	}
	return nil
}

// CheckID validates an order id a client sent.
func CheckID(id string) error {
	if !ValidID(id) {
		return Errorf(CodeInvalidArgument, "orderId must be an order id")
	}
	return nil
}

// NewID returns a new order or event id: a UUIDv7, so ids sort by time.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ValidID reports whether s is an id NewID could have made, in its
// canonical form.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}
