package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// session is what a socket carries after authentication.
type session struct {
	// claims is the token's; auth:refresh replaces it (see refresh).
	claims auth.Claims
	life   *lifetime // the token's deadline on this socket

	mu     sync.Mutex
	budget bucket // the event budget, shaped at the first event (allow)
	// board is the board room a dispatcher's socket is in ("" before
	// board:subscribe): one at a time, so a socket cannot pile up rooms.
	board string
	// detach leaves the user's queue (set by attach); gone: the socket
	// left, so a detach set after that runs at once.
	detach func()
	gone   bool
}

// setDetach records the queue's detach to run when the socket leaves;
// false when it has left already (the caller detaches itself).
func (s *session) setDetach(detach func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return false
	}
	s.detach = detach
	return true
}

// leave marks the socket gone and returns the detach to run, if any.
func (s *session) leave() func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = true
	d := s.detach
	s.detach = nil
	return d
}

// disconnected ends what a socket held, in one handler rather than one
// closure per part (an idle socket keeps only this one): its token timer,
// its place in the tenant's count, its queue; then logs it. claims'
// tenant, role and subject never change on a socket (refresh keeps them).
func (t *Handlers) disconnected(s *transport.Socket, sess *session, reason string) {
	sess.life.stop()
	t.sockets.give(sess.claims.Tenant)
	// Not a copy of claims: refresh may be writing its Expires meanwhile.
	who := auth.Claims{Tenant: sess.claims.Tenant, Role: sess.claims.Role, Subject: sess.claims.Subject}
	t.logDisconnected(s, who, reason)
	if detach := sess.leave(); detach != nil {
		detach()
	}
}

// swapBoard records room as the socket's board room and returns the one
// it replaces ("" for none).
func (s *session) swapBoard(room string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.board
	s.board = room
	return old
}

// allow takes one event at now (ns since the Handlers' epoch) from the
// socket's budget. shape gives its rate and burst, asked once, at the
// first event: idle sockets never ask.
func (s *session) allow(now int64, shape func() (float64, int)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget.take(now, shape)
}

func sessionOf(s *transport.Socket) *session {
	sess, _ := s.Data().(*session)
	return sess
}

// connectRefusal builds the contract's CONNECT_ERROR.
func connectRefusal(code orders.Code, msg string) error {
	return &transport.ConnectError{Message: msg, Data: map[string]orders.Code{"code": code}}
}

// authenticate admits sockets whose CONNECT auth carries a valid token of
// role. The token never leaves this function: not logged, not stored.
func (t *Handlers) authenticate(role orders.Role) transport.Middleware {
	return func(s *transport.Socket) error {
		var a struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Auth(), &a); err != nil || a.Token == "" {
			return t.refuse(s, role, "", orders.CodeUnauthorized, "a token is required in the auth payload", nil)
		}
		claims, err := t.verifier.Verify(a.Token)
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthorized) {
				t.log.Error("verify token", zap.Error(err))
			}
			// Why, for the operator (a wrong key, an unknown kid, an
			// expiry); never the token.
			return t.refuse(s, role, "", orders.CodeUnauthorized, "invalid or expired token", err)
		}
		if claims.Role != role {
			return t.refuse(s, role, claims.Tenant, orders.CodeForbidden, "this namespace is for the "+string(role)+" role", nil)
		}
		if !t.sockets.take(claims.Tenant, t.cfg.MaxSocketsPerTenant) {
			return t.refuse(s, role, claims.Tenant, orders.CodeRateLimited, "too many connections for this organisation; try again later", nil)
		}
		// Runs once the socket is connected and then leaves: the
		// middleware is the last step before connecting. The lifetime
		// starts at attach, once the client knows it is connected.
		sess := &session{claims: claims, life: t.newLifetime(s, claims)}
		t.logConnected(s, claims)
		s.OnDisconnect(func(reason string) { t.disconnected(s, sess, reason) })
		s.SetData(sess)
		return nil
	}
}

// eventFunc handles one client event of an authenticated socket.
type eventFunc func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack)

// orderEventFunc handles an event about one order, with the request's
// context.
type orderEventFunc func(ctx context.Context, s *transport.Socket, sess *session, id string, ack transport.Ack)

// forOrder reads the order id of an event's payload, failing the ack
// when it is missing or malformed, and runs h under a request timeout.
func (t *Handlers) forOrder(h orderEventFunc) eventFunc {
	return func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		id, err := orderID(m)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		ctx, cancel := t.ctx()
		defer cancel()
		h(ctx, s, sess, id, ack)
	}
}

// on registers h for event on every socket of the namespace (once, not
// per socket: an idle socket then holds no handlers), behind the
// per-socket rate limit; every reply goes through ack. OnConnection runs
// before any event is dispatched, and a socket it refuses is
// disconnected, so h sees only attached sockets.
func (t *Handlers) on(n *transport.Namespace, event string, h eventFunc) {
	ns := n.Name()
	n.On(event, func(s *transport.Socket, m *transport.Message, ack transport.Ack) {
		var code orders.Code
		if ack != nil {
			// Note the reply's error code for the observer.
			inner := ack
			ack = func(args ...any) error {
				if len(args) == 1 {
					if f, isFailure := args[0].(failure); isFailure {
						code = f.Error.Code
					}
				}
				return inner(args...)
			}
		}
		defer func() { t.cfg.Observer.EventIn(ns, event, code) }()
		sess := sessionOf(s)
		if sess == nil {
			fail(ack, t.log, orders.Errorf(orders.CodeUnauthorized, "not authenticated"))
			return
		}
		if !t.allow(sess) {
			fail(ack, t.log, orders.Errorf(orders.CodeRateLimited, "too many events; slow down"))
			return
		}
		h(s, sess, m, ack)
	})
}

// allow takes one event from the socket's budget, shaped (once, at its
// first event) by its tenant's own limits when it has them, else the
// server's.
func (t *Handlers) allow(sess *session) bool {
	return sess.allow(int64(time.Since(t.epoch)), func() (float64, int) {
		ps, burst := t.cfg.EventsPerSecond, t.cfg.EventBurst
		if t.cfg.TenantLimits != nil {
			tps, tb := t.cfg.TenantLimits(sess.claims.Tenant)
			if tps > 0 {
				ps = tps
			}
			if tb > 0 {
				burst = tb
			}
		}
		return ps, burst
	})
}
