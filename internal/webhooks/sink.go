package webhooks

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// pruneEvery is how often the delivery log loses what is past retention.
const pruneEvery = 10 * time.Minute

// Sink runs the webhooks of the endpoints this node holds leases on, and
// serves the registration API. Goroutines: Run's (leases, the log's
// follower) and each endpoint's worker; Run stops them all before it
// returns.
type Sink struct {
	cfg    Config
	log    Log
	store  Store
	lg     *zap.Logger
	sender *sender
	node   string

	mu      sync.Mutex
	workers map[string]*worker // by endpoint id
	// leasedUntil is when the leases last renewed lapse (reconcile's
	// goroutine only): past it another node may send for them.
	leasedUntil time.Time
	// leaseFailing: the last lease failed, already logged (reconcile's
	// goroutine only).
	leaseFailing bool

	// followed is the follower's watermark: every record after
	// followFrom up to followed has been seen and has poked the workers
	// it concerns (0: no follower running). A worker with no poke in a
	// stretch of it has nothing there and moves past without a read.
	followFrom, followed atomic.Uint64
}

// New returns a sink; Run starts delivering.
func New(cfg Config, log Log, store Store, lg *zap.Logger) *Sink {
	cfg = cfg.withDefaults()
	return &Sink{cfg: cfg, log: log, store: store, lg: lg, sender: newSender(cfg), node: newID(),
		workers: map[string]*worker{}}
}

// Run delivers until ctx ends: every Poll it renews its leases, starts a
// worker for each endpoint it gained and stops those it lost (deleted,
// disabled, or taken over). At the end it stops every worker, stores
// their cursors and gives its leases up, so another node resumes at once.
func (s *Sink) Run(ctx context.Context) error {
	defer s.shutdown()
	var stopFollow func()
	defer func() {
		if stopFollow != nil {
			stopFollow()
		}
	}()
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	var pruned time.Time
	for {
		if stopFollow == nil {
			stopFollow = s.follow(ctx)
		}
		s.reconcile(ctx)
		if now := time.Now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			if err := s.store.DeleteWebhookDeliveries(ctx, now.Add(-s.cfg.Retention)); err != nil && ctx.Err() == nil {
				s.lg.Warn("prune webhook deliveries", zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// follow wakes the workers whose records arrive; without it (the log
// unreachable at the moment) they poll every Poll.
func (s *Sink) follow(ctx context.Context) func() {
	last, err := s.log.LastPos(ctx)
	if err != nil {
		s.lg.Warn("follow the log for webhooks", zap.Error(err))
		return nil
	}
	s.followed.Store(0)
	s.followFrom.Store(last)
	stop, err := s.log.Follow(ctx, last, func(pos uint64, subject string, _ []byte) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, w := range s.workers {
			if w.concerns(subject) {
				w.poke(pos)
			}
		}
		// After the pokes, under the lock a new worker is registered
		// under: a worker that reads this watermark and then finds no
		// poke of its own up to it has nothing there, and a worker
		// registered later knows it was not there to be poked.
		s.followed.Store(pos)
	})
	if err != nil {
		s.lg.Warn("follow the log for webhooks", zap.Error(err))
		return nil
	}
	return func() {
		stop()
		s.followed.Store(0) // no watermark without a follower
	}
}

// quietUpTo returns how far w, whose next position is from, may move
// without reading: to the follower's watermark when the follower saw
// everything from there on while w was registered and poked w for none
// of it; else from-1 (read the log).
func (s *Sink) quietUpTo(w *worker, from uint64) uint64 {
	f := s.followed.Load() // first the watermark, then the pokes
	if f == 0 || from <= s.followFrom.Load() || from <= w.watchFrom || w.poked.Load() >= from {
		return from - 1
	}
	return f
}

// reconcile makes the running workers those of the endpoints leased.
func (s *Sink) reconcile(ctx context.Context) {
	now := time.Now()
	eps, err := s.store.LeaseWebhooks(ctx, s.node, now, now.Add(s.cfg.Lease))
	if err != nil {
		if ctx.Err() == nil && !s.leaseFailing {
			s.leaseFailing = true // logged once per outage, not every poll
			s.lg.Warn("lease webhooks (retrying every poll)", zap.Error(err))
		}
		// Keep sending while the leases held last; stop before they
		// lapse, or another node would send the same endpoints
		// meanwhile, out of order. Two polls early: the next tick may
		// come late on a busy machine.
		if now.Add(2 * s.cfg.Poll).Before(s.leasedUntil) {
			return
		}
		eps = nil
	} else {
		s.leasedUntil = now.Add(s.cfg.Lease)
		if s.leaseFailing {
			s.leaseFailing = false
			s.lg.Info("leasing webhooks again")
		}
	}
	held := make(map[string]bool, len(eps))
	var stop []*worker
	s.mu.Lock()
	for _, ep := range eps {
		held[ep.ID] = true
		if w, ok := s.workers[ep.ID]; ok && w.isDisabled() {
			// It stopped itself, and the endpoint was enabled again
			// since: this round retires it, the next starts a fresh
			// worker from the stored cursor.
			delete(s.workers, ep.ID)
			stop = append(stop, w)
			continue
		}
		if _, ok := s.workers[ep.ID]; !ok {
			w := newWorker(s, ep)
			// Records the follower saw before now never poked w.
			w.watchFrom = s.followed.Load()
			s.workers[ep.ID] = w
			w.start(context.WithoutCancel(ctx))
		}
	}
	for id, w := range s.workers {
		if !held[id] {
			delete(s.workers, id)
			stop = append(stop, w)
		}
	}
	s.mu.Unlock()
	for _, w := range stop {
		w.stop()
	}
}

// shutdown stops every worker (each stores its cursor) and releases the
// leases.
func (s *Sink) shutdown() {
	s.mu.Lock()
	ws := make([]*worker, 0, len(s.workers))
	for _, w := range s.workers {
		ws = append(ws, w)
	}
	s.workers = map[string]*worker{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stop()
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.ReleaseWebhooks(ctx, s.node); err != nil {
		s.lg.Warn("release webhook leases", zap.Error(err))
	}
	s.sender.close()
}

// Stats is what the metrics read at scrape time.
type Stats struct {
	// Endpoints this node delivers for now.
	Endpoints int
	// Waiting are the events (log records) read and not yet delivered;
	// an endpoint reads at most a few hundred ahead.
	Waiting int
	// Lag is the age of the oldest event not yet delivered, over this
	// node's endpoints (0 when none waits).
	Lag time.Duration
}

// Stats returns the node's numbers.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	ws := make([]*worker, 0, len(s.workers))
	for _, w := range s.workers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	st := Stats{Endpoints: len(ws)}
	now := time.Now()
	for _, w := range ws {
		_, waiting, oldest := w.track.cursor()
		st.Waiting += waiting
		if !oldest.IsZero() {
			st.Lag = max(st.Lag, now.Sub(oldest))
		}
	}
	return st
}
