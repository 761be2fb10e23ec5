package dispatch

import (
	"context"
	"strings"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TrackingStore finds an order by its tracking token, in any tenant.
type TrackingStore interface {
	OrderByTrackingToken(ctx context.Context, token string) (orders.Order, error)
}

// TrackingConfig shapes the tracking links.
type TrackingConfig struct {
	// PublicURL is the server's address as customers' browsers reach it
	// (http.public_url), without a trailing slash: links are
	// PublicURL + "/track/" + token.
	PublicURL string
	// PollSeconds is the polling interval the tracking JSON advises
	// while the order is open (default 5).
	PollSeconds int
}

// tracking serves the tracking links; nil on a Service: off.
type tracking struct {
	store     TrackingStore
	positions DriverPositions
	cfg       TrackingConfig
}

// EnableTracking gives the vendor's, customer's and dispatchers' orders
// their trackingUrl and serves Track; positions (may be nil) place the
// courier. Call it before serving.
func (s *Service) EnableTracking(st TrackingStore, positions DriverPositions, cfg TrackingConfig) {
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.PollSeconds <= 0 {
		cfg.PollSeconds = 5
	}
	s.tracking = &tracking{store: st, positions: positions, cfg: cfg}
}

// seesTrackingURL reports whether role is shown an order's trackingUrl:
// the vendor (who sends it to the customer), the customer and the
// tenant's dispatchers (who see every order anyway), never a driver,
// which would then read the customer's view of its own work.
func seesTrackingURL(r orders.Role) bool {
	return r == orders.RoleVendor || r == orders.RoleCustomer || r == orders.RoleDispatcher
}

// withTrackingURL is o as c is shown it: with its trackingUrl when c may
// see it.
func (s *Service) withTrackingURL(c auth.Claims, o orders.Order) orders.Order {
	if s.tracking != nil && o.TrackingToken != "" && seesTrackingURL(c.Role) {
		o.TrackingURL = s.tracking.cfg.PublicURL + "/track/" + o.TrackingToken
	}
	return o
}

// withTrackingURLs is withTrackingURL of each order of list, in place.
func (s *Service) withTrackingURLs(c auth.Claims, list []orders.Order) []orders.Order {
	for i := range list {
		list[i] = s.withTrackingURL(c, list[i])
	}
	return list
}

// Track returns the public view of the order behind a tracking token,
// to anyone holding it. An unknown, malformed or expired token is
// orders.ErrNotFound alike, so nothing tells them apart.
func (s *Service) Track(ctx context.Context, token string) (orders.Tracking, error) {
	if s.tracking == nil || !orders.ValidTrackingToken(token) {
		return orders.Tracking{}, orders.ErrNotFound
	}
	o, err := s.tracking.store.OrderByTrackingToken(ctx, token)
	if err != nil {
		return orders.Tracking{}, err
	}
	if !orders.TrackingOpen(o, s.now()) {
		return orders.Tracking{}, orders.ErrNotFound
	}
	evs, err := s.store.Events(ctx, o.Tenant, o.ID)
	if err != nil {
		return orders.Tracking{}, err
	}
	t := orders.NewTracking(o, evs, s.tracking.cfg.PollSeconds)
	s.placeCourier(&t, o)
	return t, nil
}

// placeCourier adds where the order's driver is and its ETA to the next
// stop, while it holds the order and its position is fresh.
func (s *Service) placeCourier(t *orders.Tracking, o orders.Order) {
	if !o.Status.Carrying() || o.DriverID == "" || s.tracking.positions == nil {
		return
	}
	p, at, ok := s.tracking.positions.Position(o.Tenant, o.DriverID)
	if !ok {
		return
	}
	t.Courier = &orders.CourierPosition{Lat: p.Lat, Lng: p.Lng, At: at}
	if s.eta != nil {
		t.ETASeconds = legs([]orders.Order{o}, geo.Point{Lat: p.Lat, Lng: p.Lng}, s.eta.eta)[0].ETASeconds
	}
}
