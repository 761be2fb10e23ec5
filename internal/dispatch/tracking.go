package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
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

// TrackedOrder is the order behind a tracking link and its courier's
// position, read before the view is built: enough to name the view
// (Tag) so that an unchanged one costs no log read and no encoding.
type TrackedOrder struct {
	// Tag names the view: it changes whenever the view would (a new
	// version of the order, a courier moving or going stale) and is
	// opaque: a hash, keyed by the token, so that it gives away neither
	// the order's version nor anything to whoever lacks the link.
	Tag     string
	order   orders.Order
	courier *orders.CourierPosition
}

// TrackLookup finds the order behind a tracking token and tags its view,
// to anyone holding it. An unknown, malformed or expired token is
// orders.ErrNotFound alike, so nothing tells them apart.
func (s *Service) TrackLookup(ctx context.Context, token string) (TrackedOrder, error) {
	if s.tracking == nil || !orders.ValidTrackingToken(token) {
		return TrackedOrder{}, orders.ErrNotFound
	}
	o, err := s.tracking.store.OrderByTrackingToken(ctx, token)
	if err != nil {
		return TrackedOrder{}, err
	}
	if !orders.TrackingOpen(o, s.now()) {
		return TrackedOrder{}, orders.ErrNotFound
	}
	tr := TrackedOrder{order: o, courier: s.courier(o)}
	tr.Tag = trackTag(token, o, tr.courier, s.tracking.cfg.PollSeconds)
	return tr, nil
}

// trackTag hashes what the view is made of: the order (every change
// bumps its version; its log grows only with it), the courier's position
// and the polling advice. The ETA is a function of these.
func trackTag(token string, o orders.Order, c *orders.CourierPosition, poll int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%d|%d", token, o.Version, o.UpdatedAt.UnixNano(), poll)
	if c != nil {
		fmt.Fprintf(h, "|%v|%v|%d", c.Lat, c.Lng, c.At.UnixNano())
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// TrackView builds the public view of a looked-up order: its log read,
// the courier placed with its ETA.
func (s *Service) TrackView(ctx context.Context, tr TrackedOrder) (orders.Tracking, error) {
	o := tr.order
	evs, err := s.store.Events(ctx, o.Tenant, o.ID)
	if err != nil {
		return orders.Tracking{}, err
	}
	t := orders.NewTracking(o, evs, s.tracking.cfg.PollSeconds)
	if tr.courier != nil {
		c := *tr.courier
		t.Courier = &c
		if s.eta != nil {
			t.ETASeconds = legs([]orders.Order{o}, geo.Point{Lat: c.Lat, Lng: c.Lng}, s.eta.eta)[0].ETASeconds
		}
	}
	return t, nil
}

// Track returns the public view of the order behind a tracking token:
// TrackLookup then TrackView.
func (s *Service) Track(ctx context.Context, token string) (orders.Tracking, error) {
	tr, err := s.TrackLookup(ctx, token)
	if err != nil {
		return orders.Tracking{}, err
	}
	return s.TrackView(ctx, tr)
}

// courier is where the order's driver is, while it holds the order and
// its position is fresh; nil otherwise.
func (s *Service) courier(o orders.Order) *orders.CourierPosition {
	if !o.Status.Carrying() || o.DriverID == "" || s.tracking.positions == nil {
		return nil
	}
	p, at, ok := s.tracking.positions.Position(o.Tenant, o.DriverID)
	if !ok {
		return nil
	}
	return &orders.CourierPosition{Lat: p.Lat, Lng: p.Lng, At: at}
}
