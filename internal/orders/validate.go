package orders

import (
	"encoding/json"
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

// NewOrder is what a vendor submits. Decode a client's JSON into
// NewOrderInput(), not into a zero NewOrder: see there.
type NewOrder struct {
	Store          string `json:"store"`
	CustomerID     string `json:"customerId"`
	Zone           string `json:"zone,omitempty"`
	Pickup         Place  `json:"pickup"`
	Dropoff        Place  `json:"dropoff"`
	Items          []Item `json:"items,omitempty"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Dispatch overrides the tenant's strategy; an empty strategy means
	// the default (DefaultStrategy fills it in).
	Dispatch Dispatch `json:"dispatch"`
	Proof    Proof    `json:"proof,omitempty"`
}

// DefaultStrategy is the strategy of an order that names none.
const DefaultStrategy = StrategyBroadcast

// StrategyOrDefault returns the order's requested strategy, or the
// default when it requested none.
func (n *NewOrder) StrategyOrDefault() Strategy {
	if n.Dispatch.Strategy == "" {
		return DefaultStrategy
	}
	return n.Dispatch.Strategy
}

// NoCoordinate marks a coordinate the client did not send: NaN, which no
// JSON number decodes to. encoding/json leaves a field untouched when its
// key is missing or null, so a value whose coordinates start as
// NoCoordinate keeps it exactly when the client sent none, and validation
// then refuses it by name; starting from zero would store 0,0.
func NoCoordinate() float64 { return math.NaN() }

// NewOrderInput is the value to decode a client's order into: its
// coordinates are NoCoordinate until the JSON sets them.
func NewOrderInput() NewOrder {
	nan := NoCoordinate()
	return NewOrder{Pickup: Place{Lat: nan, Lng: nan}, Dropoff: Place{Lat: nan, Lng: nan}}
}

// UnmarshalJSON gives an item without a qty (or with a null one) the
// contract's default of 1; an explicit 0 stays 0 and is refused.
// Unknown fields are ignored, as in the rest of a socket payload.
func (it *Item) UnmarshalJSON(b []byte) error {
	type plain Item // without this method
	p := plain{Qty: 1}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*it = Item(p)
	return nil
}

// Validate reports the first problem of n as an invalid_argument error
// that names the field. Every text field refuses NUL and invalid UTF-8,
// so that what is accepted does not depend on the database (PostgreSQL
// refuses NUL in text, SQLite stores it).
func (n *NewOrder) Validate() error {
	if err := CheckText("store", n.Store, MaxTextLen); err != nil {
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
		if err := CheckText("items[].name", it.Name, MaxTextLen); err != nil {
			return err
		}
		if it.Qty < 1 || it.Qty > MaxItemQty {
			return Errorf(CodeInvalidArgument, "items[].qty must be 1-%d (default 1)", MaxItemQty)
		}
	}
	if len(n.IdempotencyKey) > MaxIdemKeyLen || !utf8.ValidString(n.IdempotencyKey) || strings.IndexByte(n.IdempotencyKey, 0) >= 0 {
		return Errorf(CodeInvalidArgument, "idempotencyKey must be at most %d bytes of UTF-8 without NUL", MaxIdemKeyLen)
	}
	if s := n.Dispatch.Strategy; s != "" && !s.Valid() {
		return Errorf(CodeInvalidArgument, "dispatch.strategy must be broadcast, nearest or auto")
	}
	if !n.Proof.Valid() {
		return Errorf(CodeInvalidArgument, "proof must be \"pin\" or absent")
	}
	return nil
}

func (p Place) validate(field string) error {
	if p.Address == "" && math.IsNaN(p.Lat) && math.IsNaN(p.Lng) {
		return Errorf(CodeInvalidArgument, "%s is required: {address, lat, lng}", field)
	}
	if err := CheckText(field+".address", p.Address, MaxTextLen); err != nil {
		return err
	}
	return CheckPoint(field+".", p.Lat, p.Lng)
}

// CheckCoordinates validates a latitude/longitude pair sent as top-level
// lat and lng (location:update).
func CheckCoordinates(lat, lng float64) error { return CheckPoint("", lat, lng) }

// CheckPoint validates a latitude/longitude pair whose fields are named
// prefix+"lat" and prefix+"lng". Both are required (NoCoordinate means
// the client sent none) and finite, lat in [-90, 90], lng in [-180, 180].
func CheckPoint(prefix string, lat, lng float64) error {
	if err := checkDegrees(prefix+"lat", lat, 90); err != nil {
		return err
	}
	return checkDegrees(prefix+"lng", lng, 180)
}

func checkDegrees(field string, v, limit float64) error {
	if math.IsNaN(v) {
		return Errorf(CodeInvalidArgument, "%s is required: a number in [-%g, %g]", field, limit, limit)
	}
	if v < -limit || v > limit { // also ±Inf
		return Errorf(CodeInvalidArgument, "%s must be in [-%g, %g], got %g", field, limit, limit, v)
	}
	return nil
}

// CheckText validates a required free-text field (store, address, item
// name, reason): not blank, at most max bytes, valid UTF-8, no NUL.
func CheckText(field, s string, max int) error {
	if t := strings.TrimSpace(s); t == "" || len(s) > max || !utf8.ValidString(s) {
		return Errorf(CodeInvalidArgument, "%s must be 1-%d bytes of text", field, max)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Errorf(CodeInvalidArgument, "%s must not contain NUL bytes", field)
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
