package rest

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// Config tunes the REST API. Zero fields take DefaultConfig's values.
type Config struct {
	// EventsPerSecond and EventBurst limit each user's requests (per
	// tenant, role and subject): the values the sockets use for their
	// events, default 20 and 40. Past them a request gets 429
	// rate_limited with Retry-After.
	EventsPerSecond float64
	EventBurst      int
	// MaxUsers bounds the limiters kept at once (default 100,000); past
	// it a user without one waits until idle ones expire.
	MaxUsers int
	// Observer hears each request's result (default: nobody).
	Observer Observer
	// APIKeys, when set, admits API keys (dk_…) as their vendor users;
	// Minter, when set, serves POST /tokens to them.
	APIKeys APIKeys
	Minter  TokenMinter
	// AllowedOrigins are the browser origins that may call the API
	// (CORS): transport.allowed_origins, read as the Socket.IO transport
	// reads it (see cors).
	AllowedOrigins []string
	// Webhooks serves /webhooks (nil: those routes answer 404).
	Webhooks Webhooks
	// TenantLimits (may be nil) gives a tenant's own request rate and
	// burst, zero for the server's (EventsPerSecond, EventBurst).
	TenantLimits func(tenant string) (perSecond float64, burst int)
	// AdminToken (DISPATCH_ADMIN_TOKEN), when set, is admitted on the
	// webhook routes with a tenant named.
	AdminToken string
	// TrackPerSecond and TrackBurst limit each client IP's requests of
	// the public tracking JSON (default 20 and 40: a dozen tracking pages
	// polling behind one NAT; see trackPerSecond).
	TrackPerSecond float64
	TrackBurst     int
	// ClientIP names a tracking request's client, for its limit. The
	// default trusts X-Forwarded-For only from loopback, link-local and
	// private peers (a proxy such as the compose nginx); a public peer
	// is its own address, whatever it claims.
	ClientIP echo.IPExtractor
}

// Observer hears what REST clients ask, for metrics; the metrics of the
// socket events serve, with namespace "rest" and the event
// "METHOD /route" (the route pattern, so a bounded set). It must be cheap.
type Observer interface {
	EventIn(ns, event string, code orders.Code)
}

type nopObserver struct{}

func (nopObserver) EventIn(string, string, orders.Code) {}

// DefaultConfig returns the recommended settings, with no observer.
func DefaultConfig() Config {
	return Config{EventsPerSecond: 20, EventBurst: 40, MaxUsers: 100_000}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.EventsPerSecond <= 0 {
		c.EventsPerSecond = d.EventsPerSecond
	}
	if c.EventBurst <= 0 {
		c.EventBurst = d.EventBurst
	}
	if c.MaxUsers <= 0 {
		c.MaxUsers = d.MaxUsers
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	return c
}

// userKey names one user's budget. The tenant is part of it: user ids are
// per tenant.
type userKey struct {
	tenant string
	role   orders.Role
	user   string
}

// userLimits holds a token bucket per user that made a request lately.
// A bucket left alone for idle (burst / rate) is full again, the same as
// a new one, so it is dropped: the map holds only the users of the last
// few seconds, and at most max of them.
type userLimits struct {
	perSecond rate.Limit
	burst     int
	max       int
	idle      time.Duration
	now       func() time.Time

	mu        sync.Mutex
	users     map[userKey]*userLimit
	lastSweep time.Time
}

type userLimit struct {
	l    *rate.Limiter
	last time.Time     // of the last request, allowed or not
	idle time.Duration // until its bucket is full again (burst / rate)
}

func newUserLimits(cfg Config) *userLimits {
	return &userLimits{
		perSecond: rate.Limit(cfg.EventsPerSecond),
		burst:     cfg.EventBurst,
		max:       cfg.MaxUsers,
		idle:      time.Duration(float64(cfg.EventBurst) / cfg.EventsPerSecond * float64(time.Second)),
		now:       time.Now,
		users:     make(map[userKey]*userLimit),
	}
}

// allow takes one request from k's budget, or says how long until one is
// there. A refused request takes nothing. perSecond and burst are k's
// tenant's own, zero for the defaults; they shape a new bucket.
func (u *userLimits) allow(k userKey, perSecond float64, burst int) (bool, time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	if now.Sub(u.lastSweep) >= u.idle {
		u.sweep(now)
	}
	e := u.users[k]
	if e == nil {
		if len(u.users) >= u.max {
			return false, u.idle
		}
		e = u.newLimit(perSecond, burst)
		u.users[k] = e
	} else {
		u.reshape(e, perSecond, burst, now)
	}
	e.last = now
	r := e.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// shape is a bucket's rate and burst: the tenant's own, else the
// defaults.
func (u *userLimits) shape(perSecond float64, burst int) (rate.Limit, int) {
	ps, b := u.perSecond, u.burst
	if perSecond > 0 {
		ps = rate.Limit(perSecond)
	}
	if burst > 0 {
		b = burst
	}
	return ps, b
}

// newLimit is a full bucket of the given shape (zeros: the defaults).
func (u *userLimits) newLimit(perSecond float64, burst int) *userLimit {
	ps, b := u.shape(perSecond, burst)
	return &userLimit{l: rate.NewLimiter(ps, b), idle: idleOf(ps, b)}
}

// reshape follows a change of the tenant's limits on a bucket in use: an
// active user is never swept, so it would keep the old ones for good.
func (u *userLimits) reshape(e *userLimit, perSecond float64, burst int, now time.Time) {
	ps, b := u.shape(perSecond, burst)
	if e.l.Limit() != ps {
		e.l.SetLimitAt(now, ps)
	}
	if e.l.Burst() != b {
		e.l.SetBurstAt(now, b)
	}
	e.idle = idleOf(ps, b)
}

func idleOf(ps rate.Limit, b int) time.Duration {
	return time.Duration(float64(b) / float64(ps) * float64(time.Second))
}

// sweep drops the limiters idle long enough to be full again.
func (u *userLimits) sweep(now time.Time) {
	u.lastSweep = now
	for k, e := range u.users {
		if now.Sub(e.last) >= e.idle {
			delete(u.users, k)
		}
	}
}

func (u *userLimits) size() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.users)
}

// limit refuses a user's requests past its budget, before any work: 429
// rate_limited with Retry-After in whole seconds. It runs after
// authenticate, which names the user.
func (a *api) limit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cl := claimsOf(c)
		var ps float64
		var burst int
		if a.tenantLimits != nil {
			ps, burst = a.tenantLimits(cl.Tenant)
		}
		ok, wait := a.limits.allow(userKey{tenant: cl.Tenant, role: cl.Role, user: cl.Subject}, ps, burst)
		if ok {
			return next(c)
		}
		secs := max(1, int(math.Ceil(wait.Seconds())))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		if ce := a.log.Check(zap.DebugLevel, "request rate limited"); ce != nil {
			ce.Write(zap.String("tenant_id", cl.Tenant), zap.String("user_id", cl.Subject),
				zap.String("route", c.Path()), zap.Int("retry_after_s", secs), zap.String("request_id", requestID(c)))
		}
		return orders.Errorf(orders.CodeRateLimited, "too many requests; retry after %d s", secs)
	}
}

// observe reports every request's result (after authentication and
// limits, so refusals are counted too) to the observer.
func (a *api) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		var code orders.Code
		if err != nil {
			_, code, _ = classify(err)
		}
		a.obs.EventIn("rest", c.Request().Method+" "+c.Path(), code)
		return err
	}
}
