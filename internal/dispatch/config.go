package dispatch

import (
	"errors"
	"fmt"
	"time"

	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Config tunes the namespaces. Zero fields take DefaultConfig's values,
// except MaxSocketsPerTenant (0: unlimited). The yaml names are those of
// the tenants section of dispatchd's config file.
type Config struct {
	EventsPerSecond float64       `yaml:"events_per_second"` // per socket, default 20
	EventBurst      int           `yaml:"event_burst"`       // default 40
	RequestTimeout  time.Duration `yaml:"-"`                 // one event's storage work, default 10s
	Observer        Observer      `yaml:"-"`                 // hears client events (default: nobody)
	// TenantLimits (may be nil) gives a tenant's own events per second
	// and burst per socket, zero for EventsPerSecond and EventBurst.
	TenantLimits func(tenant string) (perSecond float64, burst int) `yaml:"-"`
	// MaxSocketsPerTenant bounds one tenant's sockets on this node, all
	// namespaces together (0: unlimited); past it CONNECT is refused
	// with rate_limited.
	MaxSocketsPerTenant int `yaml:"max_sockets_per_tenant"`
	// MaxWatches bounds a customer's open order:watch subscriptions
	// (default 200); past it order:watch answers conflict.
	MaxWatches int `yaml:"max_watches"`
	// MaxZones bounds a driver's open pickups:subscribe zones, "every
	// zone" counting as one (default 32): each is stored and checked for
	// every pickup of the tenant. Past it pickups:subscribe answers
	// conflict.
	MaxZones int `yaml:"max_zones"`
	// AvgSpeedMPS and DetourFactor make the straight-line ETA of
	// driver:location: seconds = meters × detour_factor / avg_speed_mps
	// (defaults 8.3 m/s ≈ 30 km/h, and 1.3).
	AvgSpeedMPS  float64 `yaml:"avg_speed_mps"`
	DetourFactor float64 `yaml:"detour_factor"`
	// PositionTTL: an on-duty driver's last position older than this
	// counts as unknown and is swept from every node's Fleet (default
	// 60s).
	PositionTTL time.Duration `yaml:"position_ttl"`
	// DeadlinePoll is how often each node asks the store for due offer
	// and respondBy deadlines (default 250ms, at most 1s): the contract
	// has a live node act within a second of one.
	DeadlinePoll time.Duration `yaml:"deadline_poll"`
	// RespondBy is how long a driver the auto strategy picked has to
	// order:reject the assignment (default 30s); after it, it stands.
	RespondBy time.Duration `yaml:"respond_by"`
	// Strategy is the dispatch strategy of an order that names none
	// (default broadcast); per-tenant settings will override it.
	Strategy orders.Strategy `yaml:"strategy"`
	// The nearest strategy: OfferSize drivers per ring (default 3),
	// within OfferRadiusMeters of the pickup (5000), each ring open for
	// OfferTTL (30s), OfferRounds rings before the order is broadcast
	// (3).
	OfferSize         int           `yaml:"offer_size"`
	OfferRadiusMeters float64       `yaml:"offer_radius_meters"`
	OfferTTL          time.Duration `yaml:"offer_ttl"`
	OfferRounds       int           `yaml:"offer_rounds"`
	// ExpiringLead is how long before its token's exp a socket gets
	// auth:expiring (default 60s). cmd sets it from auth.expiring_lead.
	ExpiringLead time.Duration `yaml:"-"`
}

// ETA is the straight-line estimate of driver:location and order:status,
// defaults applied.
func (c Config) ETA() geo.ETA {
	c = c.withDefaults()
	return geo.Straight{SpeedMPS: c.AvgSpeedMPS, DetourFactor: c.DetourFactor}
}

// DefaultExpiringLead is auth.expiring_lead's default: a minute is time
// for an app to fetch a new token from its backend.
const DefaultExpiringLead = 60 * time.Second

// DefaultConfig returns the recommended settings, with no observer.
func DefaultConfig() Config {
	return Config{
		EventsPerSecond:   20,
		EventBurst:        40,
		RequestTimeout:    10 * time.Second,
		MaxWatches:        200,
		MaxZones:          32,
		AvgSpeedMPS:       8.3,
		DetourFactor:      1.3,
		PositionTTL:       60 * time.Second,
		DeadlinePoll:      250 * time.Millisecond,
		RespondBy:         30 * time.Second,
		Strategy:          orders.DefaultStrategy,
		OfferSize:         3,
		OfferRadiusMeters: 5000,
		OfferTTL:          30 * time.Second,
		OfferRounds:       3,
		ExpiringLead:      DefaultExpiringLead,
	}
}

// Observer hears what clients ask, for metrics. It must be cheap.
type Observer interface {
	// EventIn: a client event arrived on ns; code is the reply's error
	// code, or "" for a success.
	EventIn(ns, event string, code orders.Code)
}

type nopObserver struct{}

func (nopObserver) EventIn(string, string, orders.Code) {}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.EventsPerSecond <= 0 {
		c.EventsPerSecond = d.EventsPerSecond
	}
	if c.EventBurst <= 0 {
		c.EventBurst = d.EventBurst
	}
	if c.MaxWatches <= 0 {
		c.MaxWatches = d.MaxWatches
	}
	if c.MaxZones <= 0 {
		c.MaxZones = d.MaxZones
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.AvgSpeedMPS <= 0 {
		c.AvgSpeedMPS = d.AvgSpeedMPS
	}
	if c.DetourFactor <= 0 {
		c.DetourFactor = d.DetourFactor
	}
	if c.PositionTTL <= 0 {
		c.PositionTTL = d.PositionTTL
	}
	if c.DeadlinePoll <= 0 {
		c.DeadlinePoll = d.DeadlinePoll
	}
	if c.RespondBy <= 0 {
		c.RespondBy = d.RespondBy
	}
	return c.nearestDefaults(d)
}

func (c Config) nearestDefaults(d Config) Config {
	if c.Strategy == "" {
		c.Strategy = d.Strategy
	}
	if c.OfferSize <= 0 {
		c.OfferSize = d.OfferSize
	}
	if c.OfferRadiusMeters <= 0 {
		c.OfferRadiusMeters = d.OfferRadiusMeters
	}
	if c.OfferTTL <= 0 {
		c.OfferTTL = d.OfferTTL
	}
	if c.OfferRounds <= 0 {
		c.OfferRounds = d.OfferRounds
	}
	if c.ExpiringLead <= 0 {
		c.ExpiringLead = d.ExpiringLead
	}
	return c
}

// Validate reports every field out of range, each named by its yaml key.
func (c Config) Validate() error {
	var errs []error
	if c.MaxSocketsPerTenant < 0 {
		errs = append(errs, fmt.Errorf("max_sockets_per_tenant must be 0 (unlimited) or positive, got %d", c.MaxSocketsPerTenant))
	}
	if c.MaxWatches <= 0 {
		errs = append(errs, fmt.Errorf("max_watches must be positive, got %d", c.MaxWatches))
	}
	if c.MaxZones <= 0 {
		errs = append(errs, fmt.Errorf("max_zones must be positive, got %d", c.MaxZones))
	}
	if c.EventsPerSecond <= 0 {
		errs = append(errs, fmt.Errorf("events_per_second must be positive, got %g", c.EventsPerSecond))
	}
	if c.EventBurst <= 0 {
		errs = append(errs, fmt.Errorf("event_burst must be positive, got %d", c.EventBurst))
	}
	if !(c.AvgSpeedMPS > 0) {
		errs = append(errs, fmt.Errorf("avg_speed_mps must be positive, got %g", c.AvgSpeedMPS))
	}
	if !(c.DetourFactor >= 1) {
		errs = append(errs, fmt.Errorf("detour_factor must be at least 1, got %g", c.DetourFactor))
	}
	if c.PositionTTL <= 0 {
		errs = append(errs, fmt.Errorf("position_ttl must be positive, got %s", c.PositionTTL))
	}
	if c.DeadlinePoll <= 0 || c.DeadlinePoll > time.Second {
		errs = append(errs, fmt.Errorf("deadline_poll must be positive and at most 1s, got %v", c.DeadlinePoll))
	}
	if c.RespondBy <= 0 {
		errs = append(errs, fmt.Errorf("respond_by must be positive, got %v", c.RespondBy))
	}
	return errors.Join(append(errs, c.validateNearest()...)...)
}

func (c Config) validateNearest() []error {
	var errs []error
	if !c.Strategy.Valid() {
		errs = append(errs, fmt.Errorf("strategy must be broadcast, nearest or auto, got %q", c.Strategy))
	}
	if c.OfferSize <= 0 || c.OfferSize > maxOfferSize {
		errs = append(errs, fmt.Errorf("offer_size must be 1-%d, got %d", maxOfferSize, c.OfferSize))
	}
	if !(c.OfferRadiusMeters > 0) {
		errs = append(errs, fmt.Errorf("offer_radius_meters must be positive, got %g", c.OfferRadiusMeters))
	}
	if c.OfferTTL < time.Second {
		errs = append(errs, fmt.Errorf("offer_ttl must be at least 1s, got %v", c.OfferTTL))
	}
	if c.OfferRounds <= 0 || c.OfferRounds > maxOfferRounds {
		errs = append(errs, fmt.Errorf("offer_rounds must be 1-%d, got %d", maxOfferRounds, c.OfferRounds))
	}
	return errs
}
