package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/dispatch/deadline"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// outboxChanges returns the pending changes of order id.
func outboxChanges(t *testing.T, s *Store, id string) []orders.Change {
	t.Helper()
	pending, err := s.PendingOutbox(context.Background(), 1000)
	require.NoError(t, err)
	var out []orders.Change
	for _, p := range pending {
		var ch orders.Change
		require.NoError(t, json.Unmarshal(p.Payload, &ch))
		if ch.Order.ID == id {
			out = append(out, ch)
		}
	}
	return out
}

func testReplaceDeadline(t *testing.T, s *Store) {
	ctx := context.Background()
	now := stamp(testTime())
	o, _, err := s.CreateOrderWithDeadlines(ctx, "t1", "v1", newOrder("c1", ""), now,
		DeadlineChanges{Set: []Deadline{{Kind: "offer", DueAt: now}}})
	require.NoError(t, err)
	first := claimT(t, s, "n1", now, time.Minute)
	require.Len(t, first, 1, "set with the order")
	notice := orders.Change{Order: o, Offer: &orders.Offer{Round: 1, ExpiresAt: now.Add(time.Second),
		Drivers: []orders.OfferedDriver{{ID: "d1", Meters: 10}}},
		Event: orders.Event{ID: orders.NewID(), OrderID: o.ID, Status: o.Status, At: now, Version: o.Version}}
	next := &Deadline{Kind: "offer", DueAt: now.Add(time.Second), Round: 1, Payload: `{"ring":["d1"]}`}

	ok, err := s.ReplaceDeadline(ctx, first[0], o.Version+1, next, &notice)
	require.NoError(t, err)
	assert.False(t, ok, "the order moved on: nothing")
	ok, err = s.ReplaceDeadline(ctx, first[0], o.Version, next, &notice)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.ReplaceDeadline(ctx, first[0], o.Version, next, &notice)
	require.NoError(t, err)
	assert.False(t, ok, "once: the old deadline is gone")

	list, err := s.Deadlines(ctx, "t1", o.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, int64(1), list[0].Round)
	assert.Equal(t, next.Token, list[0].Token, "next is returned as stored")
	var offers []orders.Change
	for _, ch := range outboxChanges(t, s, o.ID) {
		if ch.Offer != nil {
			offers = append(offers, ch)
		}
	}
	require.Len(t, offers, 1)
	assert.Equal(t, notice.Offer, offers[0].Offer)

	// The last ring: no next deadline, a fallback notice.
	ok, err = s.ReplaceDeadline(ctx, list[0], o.Version, nil, &orders.Change{Order: o, Broadcast: true,
		Event: orders.Event{ID: orders.NewID(), OrderID: o.ID, Status: o.Status, At: now, Version: o.Version}})
	require.NoError(t, err)
	require.True(t, ok)
	list, err = s.Deadlines(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func testUpdateDeadline(t *testing.T, s *Store) {
	ctx := context.Background()
	t0 := stamp(testTime())
	_, err := s.UpdateDeadline(ctx, "t1", "o1", "offer", func(*Deadline) error { return nil })
	require.ErrorIs(t, err, orders.ErrNotFound)
	set := setDeadlineT(t, s, "o1", "offer", t0.Add(time.Minute))
	claimed := claimT(t, s, "n1", t0.Add(time.Minute), time.Hour)
	require.Len(t, claimed, 1)

	refuse := orders.Errorf(orders.CodeConflict, "no")
	_, err = s.UpdateDeadline(ctx, "t1", "o1", "offer", func(*Deadline) error { return refuse })
	require.ErrorIs(t, err, refuse)
	got, err := s.UpdateDeadline(ctx, "t1", "o1", "offer", func(d *Deadline) error {
		assert.Equal(t, set.Payload, d.Payload)
		d.Payload, d.DueAt = `{"declined":["d1"]}`, t0
		return nil
	})
	require.NoError(t, err)
	assert.NotEqual(t, set.Token, got.Token)
	ok, err := s.CompleteDeadline(ctx, claimed[0], "n1")
	require.NoError(t, err)
	assert.False(t, ok, "the old claim cannot complete an updated deadline")
	again := claimT(t, s, "n2", t0, time.Minute)
	require.Len(t, again, 1, "updated: due now and its lease dropped")
	assert.Equal(t, `{"declined":["d1"]}`, again[0].Payload)
}

func testPerformPlanned(t *testing.T, s *Store) {
	ctx := context.Background()
	now := stamp(testTime())
	o, _, err := s.CreateOrderWithDeadlines(ctx, "t1", "v1", newOrder("c1", ""), now,
		DeadlineChanges{Set: []Deadline{{Kind: "offer", DueAt: now, Payload: "ring"}}})
	require.NoError(t, err)
	d2 := orders.Actor{Role: orders.RoleDriver, ID: "d2"}
	refuse := orders.Errorf(orders.CodeConflict, "not offered")
	planner := func(tr deadline.Transition) (deadline.Plan, error) {
		d, ok, err := tr.Lookup("offer")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "ring", d.Payload, "read in the transaction")
		assert.Equal(t, orders.Ready, tr.Cur.Status)
		assert.Equal(t, orders.Assigned, tr.Next.Status)
		if tr.Req.Actor.ID != "d2" {
			return deadline.Plan{}, refuse
		}
		return deadline.Plan{Changes: deadline.Changes{Clear: []string{"offer"}}, Taken: []string{"d1", "d3"}}, nil
	}
	_, ev, err := s.PerformPlanned(ctx, "t1", o.ID, orders.Request{Action: orders.ActionClaim,
		Actor: orders.Actor{Role: orders.RoleDriver, ID: "d9"}}, now, planner)
	require.ErrorIs(t, err, refuse)
	require.Nil(t, ev)
	got, err := s.GetOrder(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Equal(t, orders.Ready, got.Status, "a refused plan changes nothing")

	_, ev, err = s.PerformPlanned(ctx, "t1", o.ID, orders.Request{Action: orders.ActionClaim, Actor: d2}, now, planner)
	require.NoError(t, err)
	require.NotNil(t, ev)
	assert.Equal(t, []string{"d1", "d3"}, ev.Taken)
	list, err := s.Deadlines(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Empty(t, list, "cleared with the claim")
	changes := outboxChanges(t, s, o.ID)
	require.Len(t, changes, 2)
	assert.Equal(t, []string{"d1", "d3"}, changes[1].Event.Taken, "travels with the change")
	evs, err := s.Events(ctx, "t1", o.ID)
	require.NoError(t, err)
	assert.Nil(t, evs[1].Taken, "and only with it: the log keeps no ring")
}

func testListWithoutDeadline(t *testing.T, s *Store) {
	ctx := context.Background()
	now := stamp(testTime())
	plain := createT(t, s, "t1", "v1", newOrder("c1", ""))
	_, _, err := s.CreateOrderWithDeadlines(ctx, "t1", "v1", newOrder("c1", ""), now,
		DeadlineChanges{Set: []Deadline{{Kind: "offer", DueAt: now}}})
	require.NoError(t, err)
	other, _, err := s.CreateOrderWithDeadlines(ctx, "t1", "v1", newOrder("c1", ""), now,
		DeadlineChanges{Set: []Deadline{{Kind: "respond_by", DueAt: now}}})
	require.NoError(t, err)
	all, err := s.ListOrders(ctx, "t1", orders.Filter{Status: orders.Ready})
	require.NoError(t, err)
	assert.Len(t, all, 3)
	free, err := s.ListOrders(ctx, "t1", orders.Filter{Status: orders.Ready, WithoutDeadline: "offer"})
	require.NoError(t, err)
	require.Len(t, free, 2)
	assert.Equal(t, []string{plain.ID, other.ID}, []string{free[0].ID, free[1].ID})
}
