package dispatch

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
)

const (
	// autoRetryMax bounds one retry pass: the tenant's oldest ready
	// auto orders first, at most this many per pass.
	autoRetryMax = 20
	// autoRetryEvery coalesces a tenant's position stream (every driver,
	// every few seconds) into at most one pass per this period.
	autoRetryEvery = 250 * time.Millisecond
	// autoRetryList bounds the ready orders read to find the auto ones.
	autoRetryList = 500
)

// autoRetry is the set of tenants where a driver became available, for
// the retry worker; it never blocks the Fleet's hook.
type autoRetry struct {
	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

func newAutoRetry() *autoRetry {
	return &autoRetry{pending: make(map[string]bool), wake: make(chan struct{}, 1)}
}

func (r *autoRetry) mark(tenant string) {
	r.mu.Lock()
	r.pending[tenant] = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *autoRetry) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.pending))
	for t := range r.pending {
		out = append(out, t)
	}
	clear(r.pending)
	return out
}

// DriverChanged is the Fleet's hook for the auto strategy: a driver with
// a fresh position on duty may take a tenant's waiting auto orders.
// Cheap: it marks the tenant for RunAuto.
func (s *Service) DriverChanged(d DriverState) {
	if s.auto != nil && d.OnDuty && d.Known {
		s.auto.retry.mark(d.Tenant)
	}
}

// RunAuto retries the marked tenants' ready auto orders, oldest first,
// until ctx ends. Every node runs it; the store's compare-and-set keeps
// one assignment per order when two nodes try the same one.
func (s *Service) RunAuto(ctx context.Context) error {
	if s.auto == nil {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(autoRetryEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.auto.retry.wake:
		}
		for _, t := range s.auto.retry.take() {
			s.retryTenant(ctx, t)
		}
		select { // at most one round per period
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// retryTenant assigns up to autoRetryMax of the tenant's ready auto
// orders (ids are time-ordered: oldest first).
func (s *Service) retryTenant(ctx context.Context, tenant string) {
	ready, err := s.store.ListOrders(ctx, tenant, orders.Filter{Status: orders.Ready, Limit: autoRetryList})
	if err != nil {
		s.auto.log.Warn("auto dispatch: list ready orders", zap.String("tenant_id", tenant), zap.Error(err))
		return
	}
	tried := 0
	for _, o := range ready {
		if o.Dispatch.Strategy != orders.StrategyAuto {
			continue
		}
		if tried++; tried > autoRetryMax || ctx.Err() != nil {
			return
		}
		s.autoAssign(ctx, tenant, o)
	}
}
