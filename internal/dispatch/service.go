package dispatch

import (
	"context"
	"time"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Store is the order storage the dispatch domain needs.
type Store interface {
	// CreateOrder returns the creation event, or nil when an idempotency
	// key repeated and nothing was created.
	// CreateOrderWithDeadlines also sets the new order's first deadlines.
	CreateOrderWithDeadlines(ctx context.Context, tenant, vendorID string, n orders.NewOrder, now time.Time, dc deadline.Changes) (orders.Order, *orders.Event, error)
	GetOrder(ctx context.Context, tenant, id string) (orders.Order, error)
	ListOrders(ctx context.Context, tenant string, f orders.Filter) ([]orders.Order, error)
	ActiveOrderLister
	DutyStore
	// PerformPlanned applies a request (orders.Decide) atomically, with
	// what planner (nil: none) adds to it in the same transaction.
	PerformPlanned(ctx context.Context, tenant, id string, req orders.Request, now time.Time, planner deadline.Planner) (orders.Order, *orders.Event, error)
	DeadlineStore
	Events(ctx context.Context, tenant, orderID string) ([]orders.Event, error)
	// NotifyUnassigned queues order:unassigned for a ready order, once
	// per version; false when it did not (a repeat, or no longer ready).
	NotifyUnassigned(ctx context.Context, tenant, orderID, reason string, now time.Time) (bool, error)
}

// DeadlineStore moves the strategies' deadlines on.
type DeadlineStore interface {
	// ReplaceDeadline replaces old by next (nil: none) and queues notice,
	// if old and the order's version are unchanged; false when not.
	ReplaceDeadline(ctx context.Context, old deadline.Deadline, version int, next *deadline.Deadline, notice *orders.Change) (bool, error)
	// UpdateDeadline edits the order's deadline of kind by compare-and-set
	// (orders.ErrNotFound when it has none).
	UpdateDeadline(ctx context.Context, tenant, orderID, kind string, fn func(d *deadline.Deadline) error) (deadline.Deadline, error)
}

// Relay hears that a change was committed to the outbox, so that it
// publishes it now rather than at its next poll. It cannot fail: the
// change is stored, and the relay's poll would find it anyway.
type Relay interface{ Wake() }

var _ Relay = (*delivery.Relay)(nil)

// LocationPublisher sends a driver's position on its way, best-effort.
type LocationPublisher interface {
	Publish(ctx context.Context, tenant, driverID string, legs []Leg, loc Location, at time.Time) error
	PublishDuty(ctx context.Context, d orders.Duty) error
}

var _ LocationPublisher = (*Locations)(nil)

// Service is the dispatch use cases with their authorisation, shared by
// the Socket.IO namespaces and the REST API. Every method scopes to the
// caller's tenant.
type Service struct {
	store     Store
	relay     Relay
	locations LocationPublisher
	board     BoardPublisher
	drivers   DriverView
	active    *activeOrders
	now       func() time.Time
	auto      *autoDispatch    // nil: the auto strategy is off
	nearest   *nearestDispatch // nil: the nearest strategy is off
	strategy  orders.Strategy  // of an order that names none
	// tenantStrategy is a tenant's own default, "" for the server's.
	tenantStrategy func(tenant string) orders.Strategy
	eta            *statusETA // nil: order:status carries no ETA
	tracking       *tracking  // nil: no tracking links
}

// NewService returns the dispatch service; board (may be nil) hears every
// committed change, drivers (may be nil) lists the on-duty drivers.
func NewService(store Store, relay Relay, locations LocationPublisher, board BoardPublisher, drivers DriverView) *Service {
	now := func() time.Time { return time.Now().UTC() }
	return &Service{store: store, relay: relay, locations: locations, board: board, drivers: drivers,
		active: newActiveOrders(store, now), now: now, strategy: orders.DefaultStrategy}
}

// SetTenantStrategy makes f (a tenant's setting, "" for none) the default
// strategy of that tenant's orders, before the server's. Call it before
// serving.
func (s *Service) SetTenantStrategy(f func(tenant string) orders.Strategy) { s.tenantStrategy = f }

// SetDefaultStrategy sets the strategy of orders that name none. Call it
// before serving.
func (s *Service) SetDefaultStrategy(st orders.Strategy) {
	if st.Valid() {
		s.strategy = st
	}
}

// committed tells the relay and the board of a change just committed.
func (s *Service) committed(o orders.Order) {
	s.relay.Wake()
	if s.board != nil {
		// Dispatchers see the tracking link on the board as in its snapshot.
		s.board.OrderChanged(s.withTrackingURL(auth.Claims{Role: orders.RoleDispatcher}, o))
	}
}

// CreateOrder posts a new ready order for the calling vendor; created is
// false when an idempotency key repeated, and then nothing is routed again.
func (s *Service) CreateOrder(ctx context.Context, c auth.Claims, n orders.NewOrder) (o orders.Order, created bool, err error) {
	if c.Role != orders.RoleVendor {
		return orders.Order{}, false, orders.ErrForbidden
	}
	if err := n.Validate(); err != nil {
		return orders.Order{}, false, err
	}
	if n.Dispatch.Strategy == "" && s.tenantStrategy != nil {
		n.Dispatch.Strategy = s.tenantStrategy(c.Tenant)
	}
	if n.Dispatch.Strategy == "" {
		n.Dispatch.Strategy = s.strategy
	}
	now := s.now()
	var dc deadline.Changes
	if n.Dispatch.Strategy == orders.StrategyNearest {
		if s.nearest == nil {
			return orders.Order{}, false, orders.Errorf(orders.CodeInvalidArgument, "dispatch.strategy nearest is not enabled on this server")
		}
		dc = firstRing(now)
	}
	o, ev, err := s.store.CreateOrderWithDeadlines(ctx, c.Tenant, c.Subject, n, now, dc)
	if err != nil {
		return orders.Order{}, false, err
	}
	if ev != nil {
		s.committed(o)
		s.autoDispatchNow(ctx, c.Tenant, o)
		if len(dc.Set) > 0 {
			s.nearest.runner.Notify(now)
		}
	}
	return s.withTrackingURL(c, o), ev != nil, nil
}

// Act applies a lifecycle action (claim, picked_up, …, cancel) for the
// caller. A retried action returns the order unchanged and routes nothing.
func (s *Service) Act(ctx context.Context, c auth.Claims, orderID string, a orders.Action) (orders.Order, error) {
	return s.Perform(ctx, c, orderID, orders.Request{Action: a})
}

// Perform applies req for the caller, whose claims are req's actor: an
// action with arguments (a failure reason, a delivery PIN, the driver a
// dispatcher assigns). A retry returns the order unchanged.
func (s *Service) Perform(ctx context.Context, c auth.Claims, orderID string, req orders.Request) (orders.Order, error) {
	if err := orders.CheckID(orderID); err != nil {
		return orders.Order{}, err
	}
	req.Actor = orders.Actor{Role: c.Role, ID: c.Subject}
	if req.Action == orders.ActionReject && s.auto != nil {
		req.At, req.RespondWithin = s.now(), s.auto.respondBy
	}
	req = s.withETA(c.Tenant, req)
	now := s.now()
	o, ev, err := s.store.PerformPlanned(ctx, c.Tenant, orderID, req, now, s.planNearest)
	if err != nil {
		return orders.Order{}, err
	}
	if ev != nil {
		s.committed(o)
		// Both drivers' active orders changed: the one it has now and
		// the one an unassign or reject took it from.
		s.active.forget(c.Tenant, o.DriverID)
		if ev.FromDriverID != "" {
			s.active.forget(c.Tenant, ev.FromDriverID)
			// Given back: the auto strategy picks the next best driver,
			// the nearest one's first ring is due (planNearest).
			s.autoDispatchNow(ctx, c.Tenant, o)
			if s.nearest != nil && o.Dispatch.Strategy == orders.StrategyNearest {
				s.nearest.runner.Notify(now)
			}
		}
	}
	return s.withTrackingURL(c, o), nil
}

// Get returns an order the caller may see: a vendor its own, a customer
// its own, a driver the ones assigned to it or still up for grabs.
func (s *Service) Get(ctx context.Context, c auth.Claims, orderID string) (orders.Order, error) {
	if err := orders.CheckID(orderID); err != nil {
		return orders.Order{}, err
	}
	o, err := s.store.GetOrder(ctx, c.Tenant, orderID)
	if err != nil {
		return orders.Order{}, err
	}
	if err := visible(c, o); err != nil {
		return orders.Order{}, err
	}
	return s.withTrackingURL(c, o), nil
}

func visible(c auth.Claims, o orders.Order) error {
	switch c.Role {
	case orders.RoleVendor:
		if o.VendorID == c.Subject {
			return nil
		}
		return orders.ErrNotFound // like the lifecycle: other vendors' orders look missing
	case orders.RoleCustomer:
		if o.CustomerID == c.Subject {
			return nil
		}
	case orders.RoleDriver:
		if o.DriverID == c.Subject || o.Status == orders.Ready {
			return nil
		}
	case orders.RoleDispatcher:
		return nil // tenant-wide; the store scoped the tenant
	}
	return orders.ErrForbidden
}

// Events returns an order's log, with the same visibility as Get.
func (s *Service) Events(ctx context.Context, c auth.Claims, orderID string) ([]orders.Event, error) {
	if _, err := s.Get(ctx, c, orderID); err != nil {
		return nil, err
	}
	return s.store.Events(ctx, c.Tenant, orderID)
}

// List returns the caller's orders: a vendor's posted, a customer's
// placed, a driver's assigned; optionally one status only.
func (s *Service) List(ctx context.Context, c auth.Claims, status orders.Status) ([]orders.Order, error) {
	f, err := ownOrders(c, status)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListOrders(ctx, c.Tenant, f)
	return s.withTrackingURLs(c, list), err
}

// The page sizes of ListPage.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Page asks for one page of a listing: at most Limit orders (0:
// DefaultPageSize) after the order After ("": from the first).
type Page struct {
	After string
	Limit int
}

// ListPage is List one page at a time, oldest first; more tells whether
// orders follow the page's last, which is then the next page's After.
// Pages are keyset (ids sort by creation), so orders added meanwhile
// shift nothing: each order is listed once.
func (s *Service) ListPage(ctx context.Context, c auth.Claims, status orders.Status, p Page) (list []orders.Order, more bool, err error) {
	if p.Limit == 0 {
		p.Limit = DefaultPageSize
	}
	if p.Limit < 1 || p.Limit > MaxPageSize {
		return nil, false, orders.Errorf(orders.CodeInvalidArgument, "limit must be 1 to %d", MaxPageSize)
	}
	if p.After != "" && !orders.ValidID(p.After) {
		return nil, false, orders.Errorf(orders.CodeInvalidArgument, "a page starts after an order id")
	}
	f, err := ownOrders(c, status)
	if err != nil {
		return nil, false, err
	}
	// One more than asked tells whether another page follows.
	f.After, f.Limit = p.After, p.Limit+1
	list, err = s.store.ListOrders(ctx, c.Tenant, f)
	if err != nil {
		return nil, false, err
	}
	list = s.withTrackingURLs(c, list)
	if len(list) > p.Limit {
		return list[:p.Limit], true, nil
	}
	return list, false, nil
}

// ownOrders is the filter of the caller's own orders.
func ownOrders(c auth.Claims, status orders.Status) (orders.Filter, error) {
	if status != "" && !status.Valid() {
		return orders.Filter{}, orders.Errorf(orders.CodeInvalidArgument, "unknown status %q", status)
	}
	f := orders.Filter{Status: status}
	switch c.Role {
	case orders.RoleVendor:
		f.VendorID = c.Subject
	case orders.RoleCustomer:
		f.CustomerID = c.Subject
	case orders.RoleDriver:
		f.DriverID = c.Subject
	default:
		return orders.Filter{}, orders.ErrForbidden
	}
	return f, nil
}

// Pickups lists the tenant's ready orders, in one zone or all.
func (s *Service) Pickups(ctx context.Context, c auth.Claims, zone string) ([]orders.Order, error) {
	if c.Role != orders.RoleDriver {
		return nil, orders.ErrForbidden
	}
	if err := orders.CheckZone(zone); err != nil {
		return nil, err
	}
	// Orders in their offer rings are for the offered drivers only.
	return s.store.ListOrders(ctx, c.Tenant, orders.Filter{Status: orders.Ready, Zone: zone, WithoutDeadline: KindOffer, Limit: 1000})
}

// Watch returns an order and its log for its own customer.
func (s *Service) Watch(ctx context.Context, c auth.Claims, orderID string) (orders.Order, []orders.Event, error) {
	if c.Role != orders.RoleCustomer {
		return orders.Order{}, nil, orders.ErrForbidden
	}
	o, err := s.Get(ctx, c, orderID)
	if err != nil {
		return orders.Order{}, nil, err
	}
	evs, err := s.store.Events(ctx, c.Tenant, orderID)
	if err != nil {
		return orders.Order{}, nil, err
	}
	return o, evs, nil
}

// Location shows a driver's position on the orders it is to pick up or
// carries, whichever of its sockets sent it, with the way left to each
// order's next stop.
func (s *Service) Location(ctx context.Context, c auth.Claims, loc Location, eta geo.ETA) error {
	if err := orders.CheckCoordinates(loc.Lat, loc.Lng); err != nil {
		return err
	}
	if c.Role != orders.RoleDriver {
		return orders.ErrForbidden
	}
	// Published even with no order to show it on: every node's Fleet
	// keeps the on-duty drivers' positions.
	list, err := s.active.get(ctx, c.Tenant, c.Subject)
	if err != nil {
		return err
	}
	return s.locations.Publish(ctx, c.Tenant, c.Subject, legs(list, geo.Point{Lat: loc.Lat, Lng: loc.Lng}, eta), loc, s.now())
}
