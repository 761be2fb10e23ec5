package tenants

import (
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Tenant is one organisation.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Settings  Settings  `json:"settings"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Settings are a tenant's own choices; a zero field takes the server's.
type Settings struct {
	// Strategy is the dispatch strategy of the tenant's orders that name
	// none.
	Strategy orders.Strategy `json:"strategy,omitempty"`
	// EventsPerSecond and EventBurst bound each of its users' client
	// events (per socket) and REST requests, in place of the server's.
	EventsPerSecond float64 `json:"eventsPerSecond,omitempty"`
	EventBurst      int     `json:"eventBurst,omitempty"`
	// Retention is how long its undelivered events are kept (stored; the
	// stream's retention applies to every tenant today).
	Retention string `json:"retention,omitempty"`
}

// Validate checks the settings' values.
func (s Settings) Validate() error {
	if s.Strategy != "" && !s.Strategy.Valid() {
		return orders.Errorf(orders.CodeInvalidArgument, "settings.strategy must be broadcast, nearest or auto")
	}
	if s.EventsPerSecond < 0 || s.EventBurst < 0 {
		return orders.Errorf(orders.CodeInvalidArgument, "settings limits must not be negative")
	}
	if s.Retention != "" {
		d, err := time.ParseDuration(s.Retention)
		if err != nil || d <= 0 {
			return orders.Errorf(orders.CodeInvalidArgument, "settings.retention must be a positive duration such as 24h")
		}
	}
	return nil
}

// CheckID refuses a tenant id that tokens could not carry.
func CheckID(id string) error {
	if !orders.ValidName(id) {
		return orders.Errorf(orders.CodeInvalidArgument, "tenant id must be 1-%d letters, digits, '_' or '-'", orders.MaxNameLen)
	}
	return nil
}

// APIKey is a vendor backend's credential, without the key itself: only
// its hash is stored.
type APIKey struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`
	Sub       string    `json:"sub"`
	CreatedAt time.Time `json:"createdAt"`
}

// Snapshot is the whole registry, as a node loads it.
type Snapshot struct {
	Generation int64
	Tenants    []Tenant
	Keys       []Key
	APIKeys    []StoredAPIKey
}

// StoredAPIKey is an API key with its hash.
type StoredAPIKey struct {
	APIKey
	Hash string
}
