package store

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// testDispatchAndProof: strategy and proof are stored and read back; a PIN
// order gets a 4-digit PIN that the order's outbox change does not carry.
func testDispatchAndProof(t *testing.T, s *Store) {
	ctx := context.Background()
	plain := createT(t, s, "t1", "v1", newOrder("c1", ""))
	assert.Equal(t, orders.StrategyBroadcast, plain.Dispatch.Strategy, "the default")
	assert.Equal(t, orders.ProofNone, plain.Proof)
	assert.Empty(t, plain.PIN)

	n := newOrder("c1", "")
	n.Dispatch.Strategy, n.Proof = orders.StrategyAuto, orders.ProofPIN
	o := createT(t, s, "t1", "v1", n)
	assert.Equal(t, orders.StrategyAuto, o.Dispatch.Strategy)
	assert.Equal(t, orders.ProofPIN, o.Proof)
	assert.Regexp(t, `^[0-9]{4}$`, o.PIN)
	got, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got)

	pending, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	assert.NotRegexp(t, regexp.MustCompile(`"`+o.PIN+`"`), string(pending[1].Payload), "the PIN stays in the database")

	bad := newOrder("c1", "")
	bad.Dispatch.Strategy = "random"
	_, _, err = s.CreateOrder(ctx, "t1", "v1", bad, testTime())
	assert.ErrorIs(t, err, &orders.Error{Code: orders.CodeInvalidArgument})

	// Delivery needs the PIN; a retry of the delivery does not.
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	for _, a := range []orders.Action{orders.ActionClaim, orders.ActionPickUp, orders.ActionInTransit} {
		_, _, err := s.Transition(ctx, "t1", o.ID, a, d1, testTime())
		require.NoError(t, err)
	}
	_, _, err = s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionDeliver, Actor: d1, PIN: "x"}, testTime())
	assert.ErrorIs(t, err, &orders.Error{Code: orders.CodeInvalidArgument})
	done, ev, err := s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionDeliver, Actor: d1, PIN: o.PIN}, testTime())
	require.NoError(t, err)
	require.NotNil(t, ev)
	assert.Equal(t, orders.Delivered, done.Status)
	_, ev, err = s.Transition(ctx, "t1", o.ID, orders.ActionDeliver, d1, testTime())
	require.NoError(t, err)
	assert.Nil(t, ev, "a retry is harmless")
}

// testUnassignAndFail walks the unhappy paths and reads them back.
func testUnassignAndFail(t *testing.T, s *Store) {
	ctx := context.Background()
	at := testTime()
	d1 := orders.Actor{Role: orders.RoleDriver, ID: "d1"}
	d2 := orders.Actor{Role: orders.RoleDriver, ID: "d2"}
	o := createT(t, s, "t1", "v1", newOrder("c1", "north"))

	_, _, err := s.Transition(ctx, "t1", o.ID, orders.ActionClaim, d1, at)
	require.NoError(t, err)
	back, ev, err := s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionUnassign, Actor: d1, Reason: "flat tyre"}, at)
	require.NoError(t, err)
	require.NotNil(t, ev)
	assert.Equal(t, orders.Ready, back.Status)
	assert.Empty(t, back.DriverID)
	assert.Equal(t, "d1", ev.FromDriverID)
	assert.Equal(t, "flat tyre", ev.Reason)
	got, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, back, got)

	for _, a := range []orders.Action{orders.ActionClaim, orders.ActionPickUp} {
		_, _, err := s.Transition(ctx, "t1", o.ID, a, d2, at)
		require.NoError(t, err)
	}
	failAt := at.Add(time.Minute)
	failed, ev, err := s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionFail, Actor: d2, Reason: "refused"}, failAt)
	require.NoError(t, err)
	require.NotNil(t, ev)
	assert.Equal(t, orders.Failed, failed.Status)
	assert.Equal(t, &orders.Failure{Reason: orders.ReasonRefused, At: stamp(failAt)}, failed.Failure)
	got, err = s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, failed, got)
	list, err := s.ListOrders(ctx, "t1", Filter{Status: orders.Failed})
	require.NoError(t, err)
	assert.Equal(t, []orders.Order{failed}, list)

	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	require.Len(t, evs, 6)
	assert.Equal(t, "d1", evs[2].FromDriverID)
	assert.Equal(t, "flat tyre", evs[2].Reason)
	assert.Equal(t, "refused", evs[5].Reason)
	assert.Equal(t, orders.Failed, evs[5].Status)
}

// testDispatcherActions: a dispatcher assigns, unassigns and cancels any
// vendor's order of its tenant, and no other tenant's.
func testDispatcherActions(t *testing.T, s *Store) {
	ctx := context.Background()
	op := orders.Actor{Role: orders.RoleDispatcher, ID: "op1"}
	o := createT(t, s, "t1", "v7", newOrder("c1", ""))
	_, _, err := s.Perform(ctx, "t2", o.ID, orders.Request{Action: orders.ActionAssign, Actor: op, DriverID: "d3"}, testTime())
	assert.ErrorIs(t, err, orders.ErrNotFound)
	got, ev, err := s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionAssign, Actor: op, DriverID: "d3"}, testTime())
	require.NoError(t, err)
	require.NotNil(t, ev)
	assert.Equal(t, orders.Assigned, got.Status)
	assert.Equal(t, "d3", got.DriverID)
	assert.Equal(t, op, ev.Actor)
	assert.Nil(t, ev.RespondBy, "a manual assignment has no respondBy")
	got, _, err = s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionUnassign, Actor: op}, testTime())
	require.NoError(t, err)
	assert.Equal(t, orders.Ready, got.Status)

	// An automatic assignment's respondBy travels with the change, and so
	// does the ETA the caller estimates for the changed order.
	by := testTime().Add(30 * time.Second)
	eta := func(next orders.Order) *int {
		if next.Status != orders.Assigned || next.DriverID != "d4" {
			return nil
		}
		n := 95
		return &n
	}
	_, ev, err = s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionAssign, Actor: op, DriverID: "d4", RespondBy: by, ETA: eta}, testTime())
	require.NoError(t, err)
	require.NotNil(t, ev.RespondBy)
	assert.Equal(t, stamp(by), *ev.RespondBy)
	require.NotNil(t, ev.ETASeconds)
	assert.Equal(t, 95, *ev.ETASeconds)
	pending, err := s.PendingOutbox(ctx, 100)
	require.NoError(t, err)
	i := slices.IndexFunc(pending, func(e OutboxEntry) bool { return e.EventID == ev.ID })
	require.GreaterOrEqual(t, i, 0)
	var ch orders.Change
	require.NoError(t, json.Unmarshal(pending[i].Payload, &ch))
	require.NotNil(t, ch.Event.RespondBy)
	assert.True(t, stamp(by).Equal(*ch.Event.RespondBy))
	require.NotNil(t, ch.Event.ETASeconds, "the ETA travels in the outbox payload")
	assert.Equal(t, 95, *ch.Event.ETASeconds)
	logged, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	for _, e := range logged {
		assert.Nil(t, e.ETASeconds, "the log does not keep the ETA")
	}
	got, _, err = s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionUnassign, Actor: op}, testTime())
	require.NoError(t, err)
	assert.Equal(t, orders.Ready, got.Status)
	got, _, err = s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionCancel, Actor: op, Reason: "duplicate"}, testTime())
	require.NoError(t, err)
	assert.Equal(t, orders.Cancelled, got.Status)
}

// testAssignRacesClaims: a dispatcher's assignment and drivers' claims of
// one order race; exactly one wins.
func testAssignRacesClaims(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v1", newOrder("c1", ""))
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := orders.Request{Action: orders.ActionClaim, Actor: orders.Actor{Role: orders.RoleDriver, ID: "d" + string(rune('a'+i))}}
			if i%2 == 0 {
				req = orders.Request{Action: orders.ActionAssign, Actor: orders.Actor{Role: orders.RoleDispatcher, ID: "op"}, DriverID: "x" + string(rune('a'+i))}
			}
			_, ev, err := s.Perform(ctx, "t1", o.ID, req, testTime())
			if err != nil {
				code, _ := orders.CodeOf(err)
				assert.Contains(t, []orders.Code{orders.CodeAlreadyClaimed, orders.CodeConflict}, code)
				return
			}
			if ev != nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Len(t, evs, 2)
}

// testNotifyUnassigned: the auto strategy's no-driver notice is queued
// once per version of a ready order, and not for an order taken since.
func testNotifyUnassigned(t *testing.T, s *Store) {
	ctx := context.Background()
	o := createT(t, s, "t1", "v7", newOrder("c1", ""))
	queued, err := s.NotifyUnassigned(ctx, "t2", o.ID, orders.ReasonNoDriver, testTime())
	assert.ErrorIs(t, err, orders.ErrNotFound)
	assert.False(t, queued)
	queued, err = s.NotifyUnassigned(ctx, "t1", o.ID, orders.ReasonNoDriver, testTime())
	require.NoError(t, err)
	assert.True(t, queued)
	queued, err = s.NotifyUnassigned(ctx, "t1", o.ID, orders.ReasonNoDriver, testTime())
	require.NoError(t, err)
	assert.False(t, queued, "once per version")

	pending, err := s.PendingOutbox(ctx, 100)
	require.NoError(t, err)
	var notices []orders.Change
	for _, p := range pending {
		var ch orders.Change
		require.NoError(t, json.Unmarshal(p.Payload, &ch))
		if ch.Order.ID == o.ID && ch.Unassigned != "" {
			assert.Equal(t, p.EventID, ch.Event.ID)
			notices = append(notices, ch)
		}
	}
	require.Len(t, notices, 1)
	assert.Equal(t, orders.ReasonNoDriver, notices[0].Unassigned)
	assert.Equal(t, orders.Ready, notices[0].Order.Status)

	op := orders.Actor{Role: orders.RoleDispatcher, ID: "op1"}
	_, _, err = s.Perform(ctx, "t1", o.ID, orders.Request{Action: orders.ActionAssign, Actor: op, DriverID: "d3"}, testTime())
	require.NoError(t, err)
	queued, err = s.NotifyUnassigned(ctx, "t1", o.ID, orders.ReasonNoDriver, testTime())
	require.NoError(t, err)
	assert.False(t, queued, "taken: no notice")
}
