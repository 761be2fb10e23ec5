package dispatch

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// lifetime holds a socket's token deadline after CONNECT: warn lead
// before exp (auth:expiring), end at exp (auth:expired and a DISCONNECT).
// It is one runtime timer, not a goroutine: idle sockets hold none.
type lifetime struct {
	lead time.Duration
	// notify runs on the timer's goroutine, outside the lock: expired
	// false for the warning, true at exp (then the timer is done).
	notify func(expired bool, exp time.Time)

	mu     sync.Mutex
	exp    time.Time
	warned bool // auth:expiring went out for exp
	ended  bool // expired or disconnected: nothing more is scheduled
	timer  *time.Timer
	// gen tells a current timer from one whose callback was already
	// running when a refresh or a disconnect replaced it.
	gen uint64
}

func newLifetime(exp time.Time, lead time.Duration, notify func(expired bool, exp time.Time)) *lifetime {
	return &lifetime{exp: exp, lead: lead, notify: notify}
}

// start schedules the first notice; a token whose exp is nearer than
// lead is warned at once. Nothing happens after stop.
func (l *lifetime) start(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		l.scheduleLocked(now)
	}
}

// extend replaces the deadline by exp (a refreshed token's), warning
// again lead before it; false when the socket already expired or left,
// or exp is not in the future.
func (l *lifetime) extend(exp, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended || !now.Before(exp) {
		return false
	}
	l.exp, l.warned = exp, false
	l.scheduleLocked(now)
	return true
}

// stop ends the lifetime: on disconnect, so a gone socket keeps no timer.
func (l *lifetime) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = true
	l.gen++
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// scheduleLocked (re)arms the timer for the next notice after now.
func (l *lifetime) scheduleLocked(now time.Time) {
	due := l.exp
	if !l.warned {
		due = due.Add(-l.lead)
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	l.gen++
	gen := l.gen
	// A fresh timer per notice (two per token), not Reset: a callback
	// already running for the old deadline must see a new gen.
	l.timer = time.AfterFunc(max(due.Sub(now), 0), func() { l.fire(gen) })
}

// fire sends the notice due now. exp is wall-clock time and the timer
// runs on the monotonic clock: should the wall clock have stepped back, the
// notice is rescheduled instead of sent early.
func (l *lifetime) fire(gen uint64) {
	l.mu.Lock()
	if l.ended || gen != l.gen {
		l.mu.Unlock()
		return
	}
	now := time.Now()
	exp := l.exp
	var warn, expire bool
	switch {
	case !now.Before(exp):
		l.ended, expire = true, true
		l.timer = nil
	case !l.warned && !now.Before(exp.Add(-l.lead)):
		l.warned, warn = true, true
		l.scheduleLocked(now)
	default:
		l.scheduleLocked(now)
	}
	l.mu.Unlock()
	if warn || expire {
		l.notify(expire, exp)
	}
}

// AuthExpiry is the payload of auth:expiring and auth:expired, and the
// auth:refresh ack's exp: the socket's token deadline.
type AuthExpiry struct {
	Exp time.Time `json:"exp"`
}

// newLifetime returns the lifetime of a socket admitted with claims: its
// notices go to s, best effort, and at exp s leaves the namespace.
func (t *Handlers) newLifetime(s *transport.Socket, claims auth.Claims) *lifetime {
	return newLifetime(claims.Expires, t.cfg.ExpiringLead, func(expired bool, exp time.Time) {
		ev := EventAuthExpiring
		if expired {
			ev = EventAuthExpired
		}
		if err := s.Emit(string(ev), AuthExpiry{Exp: exp}); err != nil {
			t.log.Debug("token notice not sent", zap.String("event", string(ev)), zap.Error(err))
		}
		if expired {
			// The client's own DISCONNECT: a stock client does not
			// reconnect by itself, the app does with a new token.
			s.Disconnect(false)
		}
	})
}

// refresh is auth:refresh: a valid token of the socket's own tenant,
// role and subject replaces its claims and deadline. Anything else is
// unauthorized and changes nothing.
func (t *Handlers) refresh(_ *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(m, &in); err != nil {
		fail(ack, t.log, err)
		return
	}
	if in.Token == "" {
		fail(ack, t.log, orders.Errorf(orders.CodeInvalidArgument, "token is required"))
		return
	}
	c, err := t.verifier.Verify(in.Token)
	if err != nil {
		t.log.Debug("refresh token refused", zap.String("tenant_id", sess.claims.Tenant), zap.Error(err))
		fail(ack, t.log, orders.Errorf(orders.CodeUnauthorized, "invalid or expired token"))
		return
	}
	if c.Tenant != sess.claims.Tenant || c.Role != sess.claims.Role || c.Subject != sess.claims.Subject {
		// A switch of users on a live socket: what an operator wants to see.
		t.log.Debug("refresh token refused: another user", zap.String("tenant_id", sess.claims.Tenant),
			zap.String("role", string(sess.claims.Role)), zap.String("user_id", sess.claims.Subject),
			zap.String("token_tenant", c.Tenant), zap.String("token_role", string(c.Role)), zap.String("token_user", c.Subject))
		fail(ack, t.log, orders.Errorf(orders.CodeUnauthorized, "the token is for another user; connect again to change users"))
		return
	}
	if !sess.life.extend(c.Expires, time.Now()) {
		fail(ack, t.log, orders.Errorf(orders.CodeUnauthorized, "the token has expired"))
		return
	}
	// Only exp changes (tenant, role and subject are the same, checked
	// above), so the disconnect handler may read those from any goroutine.
	// Event handlers, the only other readers of claims, run one at a time
	// on the socket's reading goroutine, as this one does.
	sess.claims.Expires = c.Expires
	ok(ack, map[string]any{"exp": c.Expires})
}
