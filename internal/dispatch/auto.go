package dispatch

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Candidates finds on-duty drivers near a point: the Fleet.
type Candidates interface {
	Nearest(tenant string, p geo.Point, k int, radiusMeters float64, accept func(driverID string) bool) []Candidate
}

var _ Candidates = (*Fleet)(nil)

const (
	// autoPool is how many of the nearest drivers the auto strategy
	// weighs against each other by load.
	autoPool = 8
	// autoBucketMeters: drivers this close to each other in distance to
	// the pickup count as equally near, and the one with fewer active
	// orders wins.
	autoBucketMeters = 250
)

// AutoActor is who the auto strategy's assignments are made by. It acts
// with the dispatcher role, whose rule (assign a ready order to a driver)
// is exactly its power: a role of its own would have to stay out of the
// token roles (orders.Roles) and out of every other rule.
var AutoActor = auth.Claims{Role: orders.RoleDispatcher, Subject: "auto"}

// autoDispatch is the auto strategy of one Service.
type autoDispatch struct {
	fleet     Candidates
	respondBy time.Duration
	log       *zap.Logger
	retry     *autoRetry
}

// EnableAuto turns the auto strategy on: orders created with it, or given
// back by a reject or unassign, are assigned to the best driver fleet
// offers, who has respondBy to reject; RunAuto retries waiting ones as
// drivers come on duty (DriverChanged). Call it before serving.
func (s *Service) EnableAuto(fleet Candidates, respondBy time.Duration, log *zap.Logger) {
	if respondBy <= 0 {
		respondBy = DefaultConfig().RespondBy
	}
	s.auto = &autoDispatch{fleet: fleet, respondBy: respondBy, log: log, retry: newAutoRetry()}
}

// autoDispatchNow is autoAssign for an order that just became ready (new
// or given back): when nobody can take it, its vendor hears
// order:unassigned (the retries as drivers come on duty stay silent).
func (s *Service) autoDispatchNow(ctx context.Context, tenant string, o orders.Order) {
	if s.auto == nil || o.Dispatch.Strategy != orders.StrategyAuto || s.autoAssign(ctx, tenant, o) {
		return
	}
	queued, err := s.store.NotifyUnassigned(ctx, tenant, o.ID, orders.ReasonNoDriver, s.now())
	if err != nil {
		s.auto.log.Warn("auto dispatch: notify unassigned", zap.String("order_id", o.ID), zap.Error(err))
		return
	}
	if queued {
		s.relay.Wake()
	}
}

// autoAssign assigns a ready auto order to the best driver, if any. The
// store's compare-and-set makes it a single winner against claims,
// dispatchers and other nodes; losing is no error (someone else has it).
// It reports whether it assigned the order.
func (s *Service) autoAssign(ctx context.Context, tenant string, o orders.Order) bool {
	if s.auto == nil || o.Dispatch.Strategy != orders.StrategyAuto || o.Status != orders.Ready {
		return false
	}
	driver, err := s.bestDriver(ctx, tenant, o)
	if err != nil {
		s.auto.log.Warn("auto dispatch: no candidate", zap.String("order_id", o.ID), zap.Error(err))
		return false
	}
	if driver == "" {
		return false
	}
	c := AutoActor
	c.Tenant = tenant
	req := orders.Request{Action: orders.ActionAssign, DriverID: driver, RespondBy: s.now().Add(s.auto.respondBy)}
	if _, err := s.Perform(ctx, c, o.ID, req); err != nil {
		if code, _ := orders.CodeOf(err); code != orders.CodeConflict {
			s.auto.log.Warn("auto dispatch: assign failed", zap.String("order_id", o.ID), zap.Error(err))
		}
		return false
	}
	return true
}

// bestDriver picks the nearest driver with a fresh position who never
// gave this order back (a reject or an unassign), the one with fewer
// active orders among those about as near; "" when there is none.
func (s *Service) bestDriver(ctx context.Context, tenant string, o orders.Order) (string, error) {
	gaveBack, err := s.gaveBack(ctx, o)
	if err != nil {
		return "", err
	}
	pickup := geo.Point{Lat: o.Pickup.Lat, Lng: o.Pickup.Lng}
	cands := s.auto.fleet.Nearest(tenant, pickup, autoPool, math.Inf(1), func(id string) bool { return !gaveBack[id] })
	if len(cands) == 0 {
		return "", nil
	}
	type scored struct {
		id     string
		bucket int
		load   int
		meters float64
	}
	ranked := make([]scored, 0, len(cands))
	for _, c := range cands {
		list, err := s.active.get(ctx, tenant, c.DriverID)
		if err != nil {
			return "", err
		}
		ranked = append(ranked, scored{c.DriverID, int(c.Meters / autoBucketMeters), len(list), c.Meters})
	}
	best := slices.MinFunc(ranked, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.bucket, b.bucket), cmp.Compare(a.load, b.load), cmp.Compare(a.meters, b.meters))
	})
	return best.id, nil
}
