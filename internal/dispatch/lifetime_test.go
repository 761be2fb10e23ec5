package dispatch

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// notices records a lifetime's notices with their times.
type notices struct {
	mu  sync.Mutex
	got []notice
}

type notice struct {
	expired bool
	exp     time.Time
	at      time.Time
}

func (n *notices) add(expired bool, exp time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, notice{expired: expired, exp: exp, at: time.Now()})
}

func (n *notices) list() []notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]notice(nil), n.got...)
}

// TestLifetime runs the timer alone, in milliseconds: the JWT's whole
// seconds are the socket tests' business.
func TestLifetime(t *testing.T) {
	const lead = 200 * time.Millisecond
	// slack bounds how late a notice may come on a busy machine.
	const slack = 300 * time.Millisecond
	type want struct {
		expired bool
		at, exp time.Duration
	}
	cases := []struct {
		name string
		ttl  time.Duration
		act  func(l *lifetime, start time.Time)
		wait time.Duration
		want []want
	}{
		{name: "warned lead before exp, ended at exp", ttl: 500 * time.Millisecond, wait: 900 * time.Millisecond,
			want: []want{{false, 300 * time.Millisecond, 500 * time.Millisecond}, {true, 500 * time.Millisecond, 500 * time.Millisecond}}},
		{name: "exp nearer than the lead is warned at once", ttl: 100 * time.Millisecond, wait: 500 * time.Millisecond,
			want: []want{{false, 0, 100 * time.Millisecond}, {true, 100 * time.Millisecond, 100 * time.Millisecond}}},
		{name: "stopped before the warning: nothing", ttl: 400 * time.Millisecond, wait: 700 * time.Millisecond,
			act: func(l *lifetime, _ time.Time) { l.stop() }},
		{name: "stopped after the warning: no expiry", ttl: 400 * time.Millisecond, wait: 700 * time.Millisecond,
			act: func(l *lifetime, start time.Time) {
				time.Sleep(time.Until(start.Add(300 * time.Millisecond)))
				l.stop()
			},
			want: []want{{false, 200 * time.Millisecond, 400 * time.Millisecond}}},
		{name: "extended after the warning: warned again, ended at the new exp", ttl: 400 * time.Millisecond, wait: 1200 * time.Millisecond,
			act: func(l *lifetime, start time.Time) {
				time.Sleep(time.Until(start.Add(300 * time.Millisecond)))
				if !l.extend(start.Add(800*time.Millisecond), time.Now()) {
					panic("extend refused")
				}
			},
			want: []want{
				{false, 200 * time.Millisecond, 400 * time.Millisecond},
				{false, 600 * time.Millisecond, 800 * time.Millisecond},
				{true, 800 * time.Millisecond, 800 * time.Millisecond},
			}},
		{name: "extended before the warning: one warning, for the new exp", ttl: 400 * time.Millisecond, wait: 1000 * time.Millisecond,
			act: func(l *lifetime, start time.Time) {
				if !l.extend(start.Add(700*time.Millisecond), time.Now()) {
					panic("extend refused")
				}
			},
			want: []want{{false, 500 * time.Millisecond, 700 * time.Millisecond}, {true, 700 * time.Millisecond, 700 * time.Millisecond}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n notices
			start := time.Now()
			l := newLifetime(start.Add(tc.ttl), lead, n.add)
			l.start(start)
			if tc.act != nil {
				tc.act(l, start)
			}
			time.Sleep(time.Until(start.Add(tc.wait)))
			got := n.list()
			require.Len(t, got, len(tc.want), "%+v", got)
			for i, w := range tc.want {
				require.Equal(t, w.expired, got[i].expired, "notice %d", i)
				require.True(t, got[i].exp.Equal(start.Add(w.exp)), "notice %d names exp %s, want start+%s", i, got[i].exp.Sub(start), w.exp)
				late := got[i].at.Sub(start.Add(w.at))
				require.True(t, late >= -time.Millisecond && late < slack, "notice %d came %s after its time", i, late)
			}
			l.stop()
		})
	}
}

func TestLifetimeExtendRefused(t *testing.T) {
	var n notices
	now := time.Now()
	l := newLifetime(now.Add(time.Hour), time.Minute, n.add)
	l.start(now)
	require.False(t, l.extend(now.Add(-time.Second), now), "an exp in the past")
	require.False(t, l.extend(now, now), "an exp of now")
	l.stop()
	require.False(t, l.extend(now.Add(2*time.Hour), now), "after stop")
	require.Empty(t, n.list())
}

// shortToken signs a token of ttl (exp has whole seconds: it comes
// up to a second sooner) and returns it with its exp.
func shortToken(t testing.TB, c auth.Claims, ttl time.Duration) (string, time.Time) {
	t.Helper()
	now := time.Now()
	tok, err := auth.Sign(testAuth, c, ttl, now)
	require.NoError(t, err)
	return tok, now.Add(ttl).Truncate(time.Second)
}

// connectWith joins ns with tok.
func (e *env) connectWith(t testing.TB, ns, tok string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, e.url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Connect(ctx, ns, map[string]string{"token": tok})
	require.NoError(t, err)
	return &user{t: t, c: c, ns: ns}
}

// expectExpiry reads the next event, which must be ev naming exp.
func (u *user) expectExpiry(ev Event, exp time.Time) {
	u.t.Helper()
	var p AuthExpiry
	u.expect(string(ev), &p)
	require.True(u.t, p.Exp.Equal(exp), "%s names exp %s, want %s", ev, p.Exp, exp)
}

// expectCutAt waits for auth:expired naming exp, which must come at exp
// (within a second), and then the namespace's DISCONNECT.
func (u *user) expectCutAt(exp time.Time) {
	u.t.Helper()
	u.expectExpiry(EventAuthExpired, exp)
	at := time.Now()
	require.False(u.t, at.Before(exp), "auth:expired %s before exp", exp.Sub(at))
	require.Less(u.t, at.Sub(exp), time.Second, "auth:expired late")
	select {
	case <-u.c.Kicked(u.ns):
	case <-time.After(3 * time.Second):
		u.t.Fatal("no DISCONNECT after auth:expired")
	}
}

// TestTokenLifetimeOnSockets: with a lead of 1 s, every namespace's
// socket is warned before its token's exp and cut off at exp; a refresh
// by the same user moves the deadline; any other token changes nothing.
func TestTokenLifetimeOnSockets(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ExpiringLead = time.Second
	e := newEnv(t, cfg)
	vendor := auth.Claims{Tenant: "acme", Role: orders.RoleVendor, Subject: "v1"}

	t.Run("every namespace: warned, then cut off at exp", func(t *testing.T) {
		for _, a := range Audiences() {
			t.Run(a.Namespace, func(t *testing.T) {
				t.Parallel()
				tok, exp := shortToken(t, auth.Claims{Tenant: "acme", Role: a.Role, Subject: "u1"}, 3*time.Second)
				u := e.connectWith(t, a.Namespace, tok)
				u.expectExpiry(EventAuthExpiring, exp)
				require.Less(t, time.Until(exp), 1100*time.Millisecond, "warned too early")
				u.expectCutAt(exp)
			})
		}
	})

	t.Run("exp nearer than the lead: warned at once", func(t *testing.T) {
		t.Parallel()
		c := cfg
		c.ExpiringLead = time.Minute
		e := newEnv(t, c)
		tok, exp := shortToken(t, vendor, 30*time.Second)
		start := time.Now()
		u := e.connectWith(t, NSVendors, tok)
		u.expectExpiry(EventAuthExpiring, exp)
		require.Less(t, time.Since(start), time.Second)
	})

	t.Run("refreshed three times, then cut off at the last exp", func(t *testing.T) {
		t.Parallel()
		tok, exp := shortToken(t, vendor, 2*time.Second)
		u := e.connectWith(t, NSVendors, tok)
		for range 3 {
			u.expectExpiry(EventAuthExpiring, exp)
			next, nextExp := shortToken(t, vendor, 3*time.Second)
			r := u.mustOK(ClientAuthRefresh, map[string]string{"token": next})
			var got struct {
				Exp time.Time `json:"exp"`
			}
			require.NoError(t, json.Unmarshal(r.Raw, &got))
			require.True(t, got.Exp.Equal(nextExp), "ack exp %s, want %s", got.Exp, nextExp)
			exp = nextExp
			// The socket still works, past the old exp too.
			u.mustOK(ClientOrdersList, map[string]any{})
		}
		u.expectExpiry(EventAuthExpiring, exp)
		u.expectCutAt(exp)
	})

	t.Run("refused refreshes change nothing", func(t *testing.T) {
		t.Parallel()
		tok, exp := shortToken(t, vendor, 3*time.Second)
		u := e.connectWith(t, NSVendors, tok)
		other := func(c auth.Claims) string {
			tok, _ := shortToken(t, c, time.Hour)
			return tok
		}
		wrongKey, err := auth.Sign(auth.Config{Secret: []byte("another-secret-another-secret-0123")}, vendor, time.Hour, time.Now())
		require.NoError(t, err)
		expired, err := auth.Sign(testAuth, vendor, -time.Minute, time.Now().Add(-time.Hour))
		require.NoError(t, err)
		for _, r := range []struct {
			name    string
			payload any
			code    orders.Code
		}{
			{"another subject", map[string]string{"token": other(auth.Claims{Tenant: "acme", Role: orders.RoleVendor, Subject: "v2"})}, orders.CodeUnauthorized},
			{"another role", map[string]string{"token": other(auth.Claims{Tenant: "acme", Role: orders.RoleDriver, Subject: "v1"})}, orders.CodeUnauthorized},
			{"another tenant", map[string]string{"token": other(auth.Claims{Tenant: "umbrella", Role: orders.RoleVendor, Subject: "v1"})}, orders.CodeUnauthorized},
			{"another key", map[string]string{"token": wrongKey}, orders.CodeUnauthorized},
			{"expired", map[string]string{"token": expired}, orders.CodeUnauthorized},
			{"garbage", map[string]string{"token": "not.a.token"}, orders.CodeUnauthorized},
			{"no token", map[string]string{}, orders.CodeInvalidArgument},
			{"not an object", "token", orders.CodeInvalidArgument},
		} {
			t.Run(r.name, func(t *testing.T) {
				u.t = t
				u.mustFail(r.code, ClientAuthRefresh, r.payload)
			})
		}
		u.t = t
		u.expectExpiry(EventAuthExpiring, exp)
		u.expectCutAt(exp)
	})

	t.Run("a socket that left keeps no deadline", func(t *testing.T) {
		t.Parallel()
		tok, exp := shortToken(t, vendor, 2*time.Second)
		u := e.connectWith(t, NSVendors, tok)
		require.NoError(t, u.c.Leave(NSVendors))
		// The connection stays (as with another namespace open on it):
		// nothing may come for the socket that left, at exp or after.
		time.Sleep(time.Until(exp))
		u.quiet(time.Second)
		select {
		case <-u.c.Kicked(NSVendors):
			t.Fatal("DISCONNECT for a socket that had left")
		default:
		}
	})

	t.Run("cut off, the app connects again with a new token", func(t *testing.T) {
		t.Parallel()
		tok, exp := shortToken(t, vendor, 2*time.Second)
		u := e.connectWith(t, NSVendors, tok)
		u.expectExpiry(EventAuthExpiring, exp)
		u.expectCutAt(exp)
		next, _ := shortToken(t, vendor, time.Hour)
		_, err := u.c.Connect(context.Background(), NSVendors, map[string]string{"token": next})
		require.NoError(t, err, "the app reconnects with a new token")
		u.mustOK(ClientOrdersList, map[string]any{})
	})
}

// BenchmarkLifetimeIdle is what an idle socket's token lifetime costs:
// B/op is the memory each one holds while it waits (its timer included).
func BenchmarkLifetimeIdle(b *testing.B) {
	h := &Handlers{cfg: DefaultConfig()}
	now := time.Now()
	lives := make([]*lifetime, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N { // not b.Loop: lives is sized by b.N, so B/op is the lifetimes' alone
		l := h.newLifetime(nil, auth.Claims{Expires: now.Add(time.Hour)})
		l.start(now)
		lives = append(lives, l)
	}
	b.StopTimer()
	for _, l := range lives {
		l.stop()
	}
}
