package dispatch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// KindOffer is the deadline of the nearest strategy's current ring. While
// an order has one it is offered to a few drivers only: left out of the
// pickups lists, and claimable only by the drivers it was offered to.
const KindOffer = "offer"

const (
	maxOfferSize   = 50
	maxOfferRounds = 20
)

// DeadlineRunner fires deadlines on whichever node is alive.
type DeadlineRunner interface {
	Handle(kind string, h deadline.Handler)
	Notify(due time.Time)
}

var _ DeadlineRunner = (*deadline.Runner)(nil)

// NearestConfig tunes the nearest strategy (see Config).
type NearestConfig struct {
	Size         int
	RadiusMeters float64
	TTL          time.Duration
	Rounds       int
	Observer     OfferObserver // default: nobody
}

// OfferObserver hears what the nearest strategy does, for metrics: an
// operator sees how often orders reach nobody nearby. It must be cheap.
type OfferObserver interface {
	// OfferRing: a ring of drivers was offered an order.
	OfferRing(drivers int)
	// OfferBroadcast: an order fell back to broadcast, after its last
	// ring ("rounds") or with nobody left near enough ("nobody_near").
	OfferBroadcast(reason string)
	// OfferDeclined: a driver declined an offer.
	OfferDeclined()
}

type nopOfferObserver struct{}

func (nopOfferObserver) OfferRing(int)         {}
func (nopOfferObserver) OfferBroadcast(string) {}
func (nopOfferObserver) OfferDeclined()        {}

// Why an order fell back to broadcast.
const (
	BroadcastAfterRounds = "rounds"
	BroadcastNobodyNear  = "nobody_near"
)

// nearestDispatch is the nearest strategy of one Service.
type nearestDispatch struct {
	fleet  Candidates
	cfg    NearestConfig
	runner DeadlineRunner
	log    *zap.Logger
}

// offerState is an offer deadline's payload: who has been offered the
// order since it last became ready, who holds the current ring, who
// declined. The deadline's Round is the current ring's number (0 before
// the first).
type offerState struct {
	Offered  []string `json:"offered,omitempty"`
	Ring     []string `json:"ring,omitempty"`
	Declined []string `json:"declined,omitempty"`
}

func decodeOffer(payload string) (offerState, error) {
	var st offerState
	if payload == "" {
		return st, nil
	}
	if err := json.Unmarshal([]byte(payload), &st); err != nil {
		return st, fmt.Errorf("undecodable offer state: %w", err)
	}
	return st, nil
}

func (st offerState) encode() string {
	b, _ := json.Marshal(st) // strings only: cannot fail
	return string(b)
}

// holds reports whether driver may claim: offered, and not declined.
func (st offerState) holds(driver string) bool {
	return slices.Contains(st.Offered, driver) && !slices.Contains(st.Declined, driver)
}

var errNotOffered = orders.Errorf(orders.CodeConflict, "this order is offered to other drivers")

// EnableNearest turns the nearest strategy on: orders created with it, or
// given back, are offered ring by ring to the drivers fleet finds near
// the pickup; runner fires the rings' expiries on whichever node lives.
// Call it before serving.
func (s *Service) EnableNearest(fleet Candidates, cfg NearestConfig, runner DeadlineRunner, log *zap.Logger) {
	d := DefaultConfig()
	cfg.Size = cmp.Or(max(cfg.Size, 0), d.OfferSize)
	cfg.Rounds = cmp.Or(max(cfg.Rounds, 0), d.OfferRounds)
	cfg.TTL = cmp.Or(max(cfg.TTL, 0), d.OfferTTL)
	cfg.RadiusMeters = cmp.Or(max(cfg.RadiusMeters, 0), d.OfferRadiusMeters)
	if cfg.Observer == nil {
		cfg.Observer = nopOfferObserver{}
	}
	s.nearest = &nearestDispatch{fleet: fleet, cfg: cfg, runner: runner, log: log}
	runner.Handle(KindOffer, s.fireOffer)
}

// firstRing is the deadline that starts an order's offers: due at once,
// whichever node picks it up sends the first ring.
func firstRing(now time.Time) deadline.Changes {
	return deadline.Changes{Set: []deadline.Deadline{{Kind: KindOffer, DueAt: now}}}
}

// planNearest is the nearest strategy's part of every transition of its
// orders, inside the transition's transaction: a claim must be by a
// driver the order was offered to (unless the rings are over and it was
// broadcast), leaving ready ends the offers and tells the current ring it
// is taken, coming back to ready starts them again.
func (s *Service) planNearest(t deadline.Transition) (deadline.Plan, error) {
	if s.nearest == nil || t.Cur.Dispatch.Strategy != orders.StrategyNearest {
		return deadline.Plan{}, nil
	}
	switch {
	case t.Cur.Status != orders.Ready && t.Next.Status == orders.Ready:
		return deadline.Plan{Changes: firstRing(t.Now)}, nil
	case t.Cur.Status == orders.Ready && t.Next.Status != orders.Ready:
		d, ok, err := t.Lookup(KindOffer)
		if err != nil || !ok {
			return deadline.Plan{}, err // !ok: broadcast, anyone may claim
		}
		st, err := decodeOffer(d.Payload)
		if err != nil {
			return deadline.Plan{}, err
		}
		if t.Req.Action == orders.ActionClaim && !st.holds(t.Req.Actor.ID) {
			return deadline.Plan{}, errNotOffered
		}
		plan := deadline.Plan{Changes: deadline.Changes{Clear: []string{KindOffer}}, Offered: true}
		for _, id := range st.Ring {
			if id != t.Next.DriverID && !slices.Contains(st.Declined, id) {
				plan.Taken = append(plan.Taken, id)
			}
		}
		return plan, nil
	}
	return deadline.Plan{}, nil
}

// fireOffer acts on a due offer deadline: the next ring of drivers near
// the pickup that were not offered the order yet, or, after the last ring
// or when nobody is near, the fallback to broadcast. ReplaceDeadline makes
// it happen once, whichever node fires it and whatever a claim or decline
// did meanwhile.
func (s *Service) fireOffer(ctx context.Context, d deadline.Deadline) error {
	o, err := s.store.GetOrder(ctx, d.Tenant, d.OrderID)
	if err != nil {
		return err
	}
	if o.Status != orders.Ready || o.Dispatch.Strategy != orders.StrategyNearest {
		return nil // a stale deadline; completing it deletes it
	}
	st, err := decodeOffer(d.Payload)
	if err != nil {
		return err
	}
	round := int(d.Round) + 1
	var ring []Candidate
	if round <= s.nearest.cfg.Rounds {
		if ring, err = s.nextRing(ctx, o, st); err != nil {
			return err
		}
	}
	now := s.now()
	ev := orders.Event{OrderID: o.ID, Status: o.Status, At: now, Version: o.Version}
	notice := orders.Change{Order: o, Event: ev}
	var next *deadline.Deadline
	if len(ring) == 0 {
		notice.Event.ID = noticeID(o, d.Round, "broadcast")
		notice.Broadcast = true
	} else {
		notice.Event.ID = noticeID(o, int64(round), "offer")
		notice.Offer, next = s.ring(o, st, round, ring, now)
	}
	done, err := s.store.ReplaceDeadline(ctx, d, o.Version, next, &notice)
	if err != nil || !done {
		return err
	}
	obs := s.nearest.cfg.Observer
	switch {
	case next != nil:
		s.nearest.runner.Notify(next.DueAt)
		obs.OfferRing(len(ring))
	case round > s.nearest.cfg.Rounds:
		obs.OfferBroadcast(BroadcastAfterRounds)
	default:
		obs.OfferBroadcast(BroadcastNobodyNear)
	}
	s.relay.Wake()
	return nil
}

// noticeID names a notice of the order's current readiness: the same
// ring or fallback fired twice is one outbox row.
func noticeID(o orders.Order, round int64, kind string) string {
	return derivedID(fmt.Sprintf("%s:%d:%d", o.ID, o.Version, round), kind)
}

// nextRing finds up to Size on-duty drivers with a fresh position within
// the radius, nearest first, never offered the order since it became
// ready and never having given it back.
func (s *Service) nextRing(ctx context.Context, o orders.Order, st offerState) ([]Candidate, error) {
	gaveBack, err := s.gaveBack(ctx, o)
	if err != nil {
		return nil, err
	}
	cfg := s.nearest.cfg
	pickup := geo.Point{Lat: o.Pickup.Lat, Lng: o.Pickup.Lng}
	return s.nearest.fleet.Nearest(o.Tenant, pickup, cfg.Size, cfg.RadiusMeters, func(id string) bool {
		return !gaveBack[id] && !slices.Contains(st.Offered, id)
	}), nil
}

// gaveBack lists the drivers who unassigned or rejected the order.
func (s *Service) gaveBack(ctx context.Context, o orders.Order) (map[string]bool, error) {
	evs, err := s.store.Events(ctx, o.Tenant, o.ID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, ev := range evs {
		if ev.FromDriverID != "" {
			out[ev.FromDriverID] = true
		}
	}
	return out, nil
}

// ring is the offer of round to the candidates and the deadline that
// ends it.
func (s *Service) ring(o orders.Order, st offerState, round int, cands []Candidate, now time.Time) (*orders.Offer, *deadline.Deadline) {
	exp := now.Add(s.nearest.cfg.TTL).Truncate(time.Millisecond)
	offer := &orders.Offer{Round: round, ExpiresAt: exp}
	st.Ring = st.Ring[:0]
	for _, c := range cands {
		offer.Drivers = append(offer.Drivers, orders.OfferedDriver{ID: c.DriverID, Meters: c.Meters})
		st.Ring = append(st.Ring, c.DriverID)
		st.Offered = append(st.Offered, c.DriverID)
	}
	return offer, &deadline.Deadline{Kind: KindOffer, DueAt: exp, Round: int64(round), Payload: st.encode()}
}

// Decline is pickup:decline: a driver of the current ring turns the offer
// down. When the whole ring has declined, the next ring goes out at once
// rather than at the expiry.
func (s *Service) Decline(ctx context.Context, c auth.Claims, orderID string) error {
	if c.Role != orders.RoleDriver {
		return orders.ErrForbidden
	}
	if err := orders.CheckID(orderID); err != nil {
		return err
	}
	if s.nearest == nil {
		return s.notOffered(ctx, c, orderID)
	}
	now := s.now()
	moved, fresh := false, false
	_, err := s.store.UpdateDeadline(ctx, c.Tenant, orderID, KindOffer, func(d *deadline.Deadline) error {
		st, err := decodeOffer(d.Payload)
		if err != nil {
			return err
		}
		if !slices.Contains(st.Ring, c.Subject) {
			return errNotOffered
		}
		fresh = !slices.Contains(st.Declined, c.Subject)
		if fresh {
			st.Declined = append(st.Declined, c.Subject)
		}
		if !slices.ContainsFunc(st.Ring, func(id string) bool { return !slices.Contains(st.Declined, id) }) {
			d.DueAt, moved = now, true
		}
		d.Payload = st.encode()
		return nil
	})
	if errors.Is(err, orders.ErrNotFound) {
		return s.notOffered(ctx, c, orderID)
	}
	if err != nil {
		return err
	}
	if fresh { // a retried decline is not another one
		s.nearest.cfg.Observer.OfferDeclined()
	}
	if moved {
		s.nearest.runner.Notify(now)
	}
	return nil
}

// notOffered is the answer to a decline of an order without a ring for
// the caller: not_found for no order of the tenant, else conflict (the
// offer is over, or was never the caller's; a claim says as much).
func (s *Service) notOffered(ctx context.Context, c auth.Claims, orderID string) error {
	if _, err := s.store.GetOrder(ctx, c.Tenant, orderID); err != nil {
		return err
	}
	return errNotOffered
}
