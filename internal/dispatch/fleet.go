package dispatch

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// DutyLister lists every on-duty driver, for a starting node.
type DutyLister interface {
	OnDutyDrivers(ctx context.Context) ([]orders.Duty, error)
}

// DriverState is one on-duty driver as this node sees it; Known is false
// when it has no position younger than the fleet's TTL.
type DriverState struct {
	Tenant   string
	DriverID string
	OnDuty   bool
	Point    geo.Point
	At       time.Time
	Known    bool
}

// Candidate is a driver near a point.
type Candidate struct {
	DriverID string
	Meters   float64
}

// Fleet is every node's own view of the on-duty drivers and their last
// positions, kept in memory and fed by what every node receives anyway:
// the position subject (each position reaches every node already, to
// reach the customers' sockets) and a best-effort duty subject, with the
// on-duty drivers loaded from the store at start. Chosen over a NATS KV
// bucket: no extra write per position (thousands a second), reads are
// local map lookups (Nearest runs per dispatch), and a restarted node
// knows every position again within one update period (drivers send
// every few seconds, and a position older than the TTL counts as unknown
// anyway). A lost duty message is healed by the next start's load; the
// store stays the truth for duty.
type Fleet struct {
	ttl      time.Duration
	now      func() time.Time
	onChange func(DriverState) // the hook; nil: nobody

	mu      sync.RWMutex
	tenants map[string]*tenantFleet
}

type tenantFleet struct {
	duty map[string]dutyMark // the latest duty change heard per driver
	idx  *geo.Index          // on-duty drivers' positions
	// early holds the last position of drivers not (yet) heard on duty:
	// duty and positions travel on different subjects, so a driver's
	// first position may overtake its "on"; it would otherwise be lost
	// until the next one. Swept like positions.
	early map[string]sighting
}

type sighting struct {
	p  geo.Point
	at time.Time
}

type dutyMark struct {
	on bool
	at time.Time
}

// NewFleet returns an empty view whose positions expire after ttl
// (Config.PositionTTL; its default when not positive); onChange, if not
// nil, hears every duty and position change (cheap, called without the
// fleet's lock).
func NewFleet(ttl time.Duration, onChange func(DriverState)) *Fleet {
	if ttl <= 0 {
		ttl = DefaultConfig().PositionTTL
	}
	return &Fleet{ttl: ttl, now: time.Now, onChange: onChange, tenants: make(map[string]*tenantFleet)}
}

func (f *Fleet) tenant(t string) *tenantFleet {
	tf, ok := f.tenants[t]
	if !ok {
		tf = &tenantFleet{duty: make(map[string]dutyMark), idx: geo.NewIndex(0), early: make(map[string]sighting)}
		f.tenants[t] = tf
	}
	return tf
}

// ApplyDuty records a duty change; an older one than known is ignored.
func (f *Fleet) ApplyDuty(d orders.Duty) {
	f.mu.Lock()
	tf := f.tenant(d.Tenant)
	if last, ok := tf.duty[d.DriverID]; ok && d.UpdatedAt.Before(last.at) {
		f.mu.Unlock()
		return
	}
	tf.duty[d.DriverID] = dutyMark{on: d.OnDuty, at: d.UpdatedAt}
	early, ok := tf.early[d.DriverID]
	delete(tf.early, d.DriverID)
	placed := false
	switch {
	case !d.OnDuty:
		tf.idx.Remove(d.DriverID)
	case ok && !early.at.Before(f.fresh()):
		placed = tf.idx.Upsert(d.DriverID, early.p, early.at) == nil
	}
	f.mu.Unlock()
	f.notify(DriverState{Tenant: d.Tenant, DriverID: d.DriverID, OnDuty: d.OnDuty, At: d.UpdatedAt})
	if placed {
		f.notify(DriverState{Tenant: d.Tenant, DriverID: d.DriverID, OnDuty: true, Point: early.p, At: early.at, Known: true})
	}
}

// Observe records an on-duty driver's position; others' are kept aside
// (early) in case their "on" is still on its way. Positions older than
// the known one are ignored.
func (f *Fleet) Observe(tenant, driver string, p geo.Point, at time.Time) {
	f.mu.Lock()
	tf := f.tenant(tenant)
	if m, known := tf.duty[driver]; !m.on {
		// Kept only for a driver never heard of: one known off duty
		// sends positions too, and they would pile up here.
		if e, ok := tf.early[driver]; !known && (!ok || !at.Before(e.at)) {
			tf.early[driver] = sighting{p: p, at: at}
		}
		f.mu.Unlock()
		return
	}
	if _, last, known := tf.idx.Get(driver); known && at.Before(last) {
		f.mu.Unlock()
		return
	}
	err := tf.idx.Upsert(driver, p, at)
	f.mu.Unlock()
	if err == nil {
		f.notify(DriverState{Tenant: tenant, DriverID: driver, OnDuty: true, Point: p, At: at, Known: true})
	}
}

func (f *Fleet) notify(s DriverState) {
	if f.onChange != nil {
		f.onChange(s)
	}
}

// fresh is the oldest position that still counts.
func (f *Fleet) fresh() time.Time { return f.now().Add(-f.ttl) }

// Position returns an on-duty driver's last position if it is fresh.
func (f *Fleet) Position(tenant, driver string) (geo.Point, time.Time, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	tf, ok := f.tenants[tenant]
	if !ok {
		return geo.Point{}, time.Time{}, false
	}
	p, at, ok := tf.idx.Get(driver)
	if !ok || at.Before(f.fresh()) {
		return geo.Point{}, time.Time{}, false
	}
	return p, at, true
}

// Nearest returns up to k on-duty drivers of tenant with a fresh
// position within radiusMeters of p that accept takes (nil: all),
// nearest first.
func (f *Fleet) Nearest(tenant string, p geo.Point, k int, radiusMeters float64, accept func(driverID string) bool) []Candidate {
	f.mu.RLock()
	defer f.mu.RUnlock()
	tf, ok := f.tenants[tenant]
	if !ok {
		return nil
	}
	fresh := f.fresh()
	ns := tf.idx.Nearest(p, k, radiusMeters, func(id string) bool {
		_, at, _ := tf.idx.Get(id)
		return !at.Before(fresh) && (accept == nil || accept(id))
	})
	out := make([]Candidate, len(ns))
	for i, n := range ns {
		out[i] = Candidate{DriverID: n.ID, Meters: n.Meters}
	}
	return out
}

// OnDuty lists tenant's on-duty drivers by id, with their fresh
// positions.
func (f *Fleet) OnDuty(tenant string) []DriverState {
	f.mu.RLock()
	defer f.mu.RUnlock()
	tf, ok := f.tenants[tenant]
	if !ok {
		return nil
	}
	fresh := f.fresh()
	out := make([]DriverState, 0, len(tf.duty))
	for id, m := range tf.duty {
		if !m.on {
			continue
		}
		s := DriverState{Tenant: tenant, DriverID: id, OnDuty: true}
		if p, at, ok := tf.idx.Get(id); ok && !at.Before(fresh) {
			s.Point, s.At, s.Known = p, at, true
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b DriverState) int { return cmp.Compare(a.DriverID, b.DriverID) })
	return out
}

// Sweep forgets positions older than the TTL, off-duty marks older than
// it (kept that long so that a late, older "on" cannot undo them), and
// tenants left empty: memory holds one entry per on-duty driver, and per
// driver whose position came within the TTL before any duty change of it.
func (f *Fleet) Sweep() {
	f.mu.Lock()
	defer f.mu.Unlock()
	fresh := f.fresh()
	for t, tf := range f.tenants {
		tf.idx.RemoveSeenBefore(fresh)
		for id, m := range tf.duty {
			if !m.on && m.at.Before(fresh) {
				delete(tf.duty, id)
			}
		}
		for id, e := range tf.early {
			if e.at.Before(fresh) {
				delete(tf.early, id)
			}
		}
		if len(tf.duty) == 0 && tf.idx.Len() == 0 && len(tf.early) == 0 {
			delete(f.tenants, t)
		}
	}
}

// Load reads the on-duty drivers from the store: a starting node's view.
func (f *Fleet) Load(ctx context.Context, store DutyLister) error {
	list, err := store.OnDutyDrivers(ctx)
	if err != nil {
		return fmt.Errorf("load on-duty drivers: %w", err)
	}
	for _, d := range list {
		f.ApplyDuty(d)
	}
	return nil
}

// Run feeds the view from every node's positions and duty changes and
// sweeps it every TTL, until ctx ends. Subscribe before loading: a
// change committed in between is then both loaded and heard.
func (f *Fleet) Run(ctx context.Context, positions Positions, store DutyLister, log *zap.Logger) error {
	stopLoc, err := positions.SubscribeBestEffort(positions.LocationSubject(), func(data []byte) {
		var m locationMsg
		if json.Unmarshal(data, &m) == nil && m.DriverID != "" {
			f.Observe(m.Tenant, m.DriverID, geo.Point{Lat: m.Location.Lat, Lng: m.Location.Lng}, m.At)
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe to positions: %w", err)
	}
	defer stopLoc()
	stopDuty, err := positions.SubscribeBestEffort(dutySubject(positions), func(data []byte) {
		var d orders.Duty
		if err := json.Unmarshal(data, &d); err != nil {
			log.Warn("undecodable duty change", zap.Error(err))
			return
		}
		f.ApplyDuty(d)
	})
	if err != nil {
		return fmt.Errorf("subscribe to duty changes: %w", err)
	}
	defer stopDuty()
	if err := f.Load(ctx, store); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while loading: a normal stop, not a failure
		}
		return err
	}
	tick := time.NewTicker(f.ttl)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			f.Sweep()
		}
	}
}

// dutySubject carries duty changes, best effort, beside the positions
// (outside the stream's subjects too, so never stored).
func dutySubject(p Positions) string { return p.LocationSubject() + ".duty" }

// PublishDuty sends a duty change to every node, this one included.
func (l *Locations) PublishDuty(_ context.Context, d orders.Duty) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return l.positions.PublishBestEffort(dutySubject(l.positions), data)
}
