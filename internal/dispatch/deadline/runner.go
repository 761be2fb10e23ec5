package deadline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
)

// Store is what the Runner needs of the order store.
type Store interface {
	// ClaimDueDeadlines leases to owner up to limit due deadlines that no
	// live lease holds; each goes to one caller only, across nodes.
	ClaimDueDeadlines(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Deadline, error)
	// CompleteDeadline deletes d if it is still owner's claim, unchanged.
	CompleteDeadline(ctx context.Context, d Deadline, owner string) (bool, error)
}

// Handler acts on a due deadline. An error leaves the deadline to be
// claimed again when its lease lapses, on whichever node claims it first.
type Handler func(ctx context.Context, d Deadline) error

// Observer hears what the Runner does, for metrics. It must be cheap.
type Observer interface {
	// Fired: a handler of kind succeeded lag after the deadline was due.
	Fired(kind string, lag time.Duration)
	// Failed: a handler of kind failed, or none is registered for it.
	Failed(kind string)
}

type nopObserver struct{}

func (nopObserver) Fired(string, time.Duration) {}
func (nopObserver) Failed(string)               {}

// Config tunes a Runner. Zero fields take DefaultConfig's values.
type Config struct {
	// Poll is how often the store is asked for due deadlines. Polling,
	// not LISTEN/NOTIFY: the same code runs on SQLite, and the delay is
	// bounded by Poll (well under the contract's second) whoever set the
	// deadline and whether or not its node still lives.
	Poll time.Duration
	// Lease is how long a claim holds a deadline: the bound on a
	// handler's run, and how late a deadline whose node died while
	// handling it fires elsewhere.
	Lease time.Duration
	// Batch bounds the deadlines claimed (and handled) per round.
	Batch int
	// Workers bounds the handlers running at once: a burst of deadlines
	// (many offers sent together) must not wait for each other's writes.
	Workers int
	// Owner names this node in leases (default: a random id).
	Owner    string
	Observer Observer
}

// DefaultConfig returns the recommended settings.
func DefaultConfig() Config {
	return Config{Poll: 250 * time.Millisecond, Lease: 10 * time.Second, Batch: 100, Workers: 8}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Poll <= 0 {
		c.Poll = d.Poll
	}
	if c.Lease <= 0 {
		c.Lease = d.Lease
	}
	if c.Batch <= 0 {
		c.Batch = d.Batch
	}
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.Owner == "" {
		c.Owner = uuid.NewString()
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	return c
}

// Runner fires due deadlines on every node: run one per node.
type Runner struct {
	st  Store
	cfg Config
	log *zap.Logger

	mu       sync.Mutex
	handlers map[string]Handler
	next     time.Time     // earliest deadline Notify heard of, zero if none
	wake     chan struct{} // buffered 1: Notify moved next earlier
}

// NewRunner returns a Runner with no handlers.
func NewRunner(st Store, cfg Config, log *zap.Logger) *Runner {
	if log == nil {
		log = zap.NewNop()
	}
	return &Runner{st: st, cfg: cfg.withDefaults(), log: log, handlers: map[string]Handler{}, wake: make(chan struct{}, 1)}
}

// Handle registers h for deadlines of kind, replacing any before.
func (r *Runner) Handle(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = h
}

// Notify tells the Runner this node set a deadline due at due, so that it
// claims it on time rather than up to a poll later.
func (r *Runner) Notify(due time.Time) {
	r.mu.Lock()
	earlier := r.next.IsZero() || due.Before(r.next)
	if earlier {
		r.next = due
	}
	r.mu.Unlock()
	if earlier {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// Run fires deadlines until ctx ends; it returns nil then.
func (r *Runner) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-timer.C:
			full := r.round(ctx)
			if full {
				// A backlog: go on at once, a batch at a time.
				timer.Reset(0)
				continue
			}
		}
		timer.Reset(r.untilNext(time.Now()))
	}
}

// untilNext is how long to sleep: a poll, or less if a notified deadline
// is due sooner.
func (r *Runner) untilNext(now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	wait := r.cfg.Poll
	if !r.next.IsZero() {
		if d := r.next.Sub(now); d < wait {
			wait = max(d, 0)
		}
	}
	return wait
}

// round claims and handles one batch; it reports whether the batch was
// full, so more may be due.
func (r *Runner) round(ctx context.Context) bool {
	now := time.Now()
	r.mu.Lock()
	if !r.next.IsZero() && !r.next.After(now) {
		r.next = time.Time{} // due now: this claim takes it
	}
	r.mu.Unlock()
	ds, err := r.st.ClaimDueDeadlines(ctx, r.cfg.Owner, now, r.cfg.Lease, r.cfg.Batch)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("claim due deadlines", zap.Error(err))
		}
		return false
	}
	sem := make(chan struct{}, r.cfg.Workers)
	var wg sync.WaitGroup
	for _, d := range ds {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			// The rest's leases lapse and another node takes them.
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			r.fire(ctx, d)
		})
	}
	wg.Wait()
	return len(ds) == r.cfg.Batch && ctx.Err() == nil
}

// fire runs d's handler, within d's lease, and completes d on success.
func (r *Runner) fire(ctx context.Context, d Deadline) {
	log := r.log.With(zap.String("tenant_id", d.Tenant), zap.String("order_id", d.OrderID), zap.String("kind", d.Kind))
	if err := r.call(ctx, d); err != nil {
		r.cfg.Observer.Failed(d.Kind)
		if ctx.Err() == nil {
			log.Warn("deadline handler failed; retried after its lease", zap.Error(err))
		}
		return
	}
	r.cfg.Observer.Fired(d.Kind, time.Since(d.DueAt))
	// Completion is best effort: if it fails the deadline fires again
	// after its lease, so handlers must tolerate a repeat (they act
	// through transitions, which refuse or ignore a second time).
	if _, err := r.st.CompleteDeadline(context.WithoutCancel(ctx), d, r.cfg.Owner); err != nil {
		log.Warn("complete deadline", zap.Error(err))
	}
}

var errNoHandler = errors.New("no handler for this kind")

func (r *Runner) call(ctx context.Context, d Deadline) error {
	r.mu.Lock()
	h := r.handlers[d.Kind]
	r.mu.Unlock()
	if h == nil {
		return errNoHandler
	}
	// Past its lease another node may act on it too: stop there.
	ctx, cancel := context.WithDeadline(ctx, d.LeaseUntil)
	defer cancel()
	if err := h(ctx, d); err != nil {
		return fmt.Errorf("%s deadline: %w", d.Kind, err)
	}
	return nil
}
