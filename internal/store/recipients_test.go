package store

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// loadT loads a recipient, failing the test on error.
func loadT(t testing.TB, s *Store, id delivery.RecipientID, start delivery.Cursor) (delivery.Cursor, []delivery.Subscription) {
	t.Helper()
	c, subs, err := s.LoadRecipient(context.Background(), id, start)
	require.NoError(t, err)
	return c, subs
}

// cursorOf reads a recipient's stored cursor without creating one.
func cursorOf(t testing.TB, s *Store, id delivery.RecipientID) (delivery.Cursor, bool) {
	t.Helper()
	c, found, err := s.cursor(context.Background(), s.w, id)
	require.NoError(t, err)
	return c, found
}

func testRecipientFirstLoad(t *testing.T, s *Store) {
	id := delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d1"}
	_, found := cursorOf(t, s, id)
	require.False(t, found)

	c, subs := loadT(t, s, id, delivery.Cursor{Pos: 10, Seq: 3})
	assert.Equal(t, delivery.Cursor{Pos: 10, Seq: 3}, c, "a new recipient starts at start")
	assert.Empty(t, subs)

	c, _ = loadT(t, s, id, delivery.Cursor{Pos: 99, Seq: 42})
	assert.Equal(t, delivery.Cursor{Pos: 10, Seq: 3}, c, "a known recipient keeps its cursor")
	assert.Equal(t, 1, countRows(t, s.w, s.d, `SELECT count(*) FROM recipient_cursors`))

	big := delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d2"}
	c, _ = loadT(t, s, big, delivery.Cursor{Pos: math.MaxInt64, Seq: math.MaxInt64})
	assert.Equal(t, delivery.Cursor{Pos: math.MaxInt64, Seq: math.MaxInt64}, c, "the largest storable values round trip")
}

func testSaveCursors(t *testing.T, s *Store) {
	ctx := context.Background()
	id := delivery.RecipientID{Tenant: "t1", Role: "customer", User: "c1"}
	loadT(t, s, id, delivery.Cursor{Pos: 10, Seq: 3})

	steps := []struct {
		name string
		save delivery.Cursor
		want delivery.Cursor
	}{
		{"forward", delivery.Cursor{Pos: 20, Seq: 5}, delivery.Cursor{Pos: 20, Seq: 5}},
		{"smaller pos is ignored", delivery.Cursor{Pos: 15, Seq: 9}, delivery.Cursor{Pos: 20, Seq: 5}},
		{"same pos is ignored", delivery.Cursor{Pos: 20, Seq: 7}, delivery.Cursor{Pos: 20, Seq: 5}},
		{"zero is ignored", delivery.Cursor{}, delivery.Cursor{Pos: 20, Seq: 5}},
		{"forward again", delivery.Cursor{Pos: 21, Seq: 6}, delivery.Cursor{Pos: 21, Seq: 6}},
	}
	for _, st := range steps {
		require.NoError(t, s.SaveCursors(ctx, map[delivery.RecipientID]delivery.Cursor{id: st.save}), st.name)
		got, _ := loadT(t, s, id, delivery.Cursor{Pos: 1000})
		assert.Equal(t, st.want, got, st.name)
	}

	unknown := delivery.RecipientID{Tenant: "t1", Role: "customer", User: "c2"}
	require.NoError(t, s.SaveCursors(ctx, map[delivery.RecipientID]delivery.Cursor{unknown: {Pos: 7, Seq: 1}}))
	got, _ := loadT(t, s, unknown, delivery.Cursor{Pos: 1000, Seq: 1000})
	assert.Equal(t, delivery.Cursor{Pos: 7, Seq: 1}, got, "a save inserts an unknown recipient's cursor")

	require.NoError(t, s.SaveCursors(ctx, nil))
	require.NoError(t, s.SaveCursors(ctx, map[delivery.RecipientID]delivery.Cursor{}))
	assert.Equal(t, 2, countRows(t, s.w, s.d, `SELECT count(*) FROM recipient_cursors`))
}

func testSaveCursorsBatches(t *testing.T, s *Store) {
	ctx := context.Background()
	const n = 2*cursorBatch + 1 // three statements, the last of one row
	id := func(i int) delivery.RecipientID {
		return delivery.RecipientID{Tenant: "t1", Role: "driver", User: fmt.Sprintf("d%04d", i)}
	}
	first := make(map[delivery.RecipientID]delivery.Cursor, n)
	for i := range n {
		first[id(i)] = delivery.Cursor{Pos: 100, Seq: uint64(i)}
	}
	require.NoError(t, s.SaveCursors(ctx, first))
	require.Equal(t, n, countRows(t, s.w, s.d, `SELECT count(*) FROM recipient_cursors`))

	// Even recipients move forward, odd ones get a stale save.
	second := make(map[delivery.RecipientID]delivery.Cursor, n)
	for i := range n {
		pos := uint64(101)
		if i%2 == 1 {
			pos = 99
		}
		second[id(i)] = delivery.Cursor{Pos: pos}
	}
	require.NoError(t, s.SaveCursors(ctx, second))
	for i := range n {
		got, found := cursorOf(t, s, id(i))
		require.True(t, found, i)
		if i%2 == 0 {
			assert.Equal(t, delivery.Cursor{Pos: 101, Seq: 0}, got, i)
		} else {
			assert.Equal(t, delivery.Cursor{Pos: 100, Seq: uint64(i)}, got, i)
		}
	}
}

func testSaveCursorsConcurrent(t *testing.T, s *Store) {
	ctx := context.Background()
	const (
		savers     = 8
		recipients = 100
	)
	// Every saver writes the same recipients, each at its own position: in
	// whatever order the transactions commit, the largest one stays.
	errs := concurrently(savers, func(g int) error {
		m := make(map[delivery.RecipientID]delivery.Cursor, recipients)
		for i := range recipients {
			m[delivery.RecipientID{Tenant: "t1", Role: "driver", User: fmt.Sprintf("d%d", i)}] = delivery.Cursor{Pos: uint64(g + 1), Seq: uint64(g)}
		}
		return s.SaveCursors(ctx, m)
	})
	for g, err := range errs {
		require.NoError(t, err, g)
	}
	for i := range recipients {
		got, found := cursorOf(t, s, delivery.RecipientID{Tenant: "t1", Role: "driver", User: fmt.Sprintf("d%d", i)})
		require.True(t, found, i)
		assert.Equal(t, delivery.Cursor{Pos: savers, Seq: savers - 1}, got, i)
	}
}

func testLoadRecipientConcurrent(t *testing.T, s *Store) {
	id := delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d1"}
	const callers = 20
	got := make([]delivery.Cursor, callers)
	errs := concurrently(callers, func(i int) error {
		var err error
		got[i], _, err = s.LoadRecipient(context.Background(), id, delivery.Cursor{Pos: uint64(100 + i), Seq: uint64(i)})
		return err
	})
	for i, err := range errs {
		require.NoError(t, err, i)
		assert.Equal(t, got[0], got[i], "every caller gets the one stored cursor")
	}
	assert.Equal(t, got[0].Pos-100, got[0].Seq, "the cursor is one caller's start")
	stored, found := cursorOf(t, s, id)
	require.True(t, found)
	assert.Equal(t, got[0], stored)
	assert.Equal(t, 1, countRows(t, s.w, s.d, `SELECT count(*) FROM recipient_cursors`))
}

func testSubscriptions(t *testing.T, s *Store) {
	ctx := context.Background()
	id := delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d1"}
	put := func(sub delivery.Subscription) {
		t.Helper()
		require.NoError(t, s.PutSubscription(ctx, id, sub))
	}

	put(delivery.Subscription{Kind: delivery.SubZone, Key: "north", From: 4})
	put(delivery.Subscription{Kind: delivery.SubOrder, Key: "o1", From: 5})
	put(delivery.Subscription{Kind: delivery.SubZone, Key: "", From: 3})
	put(delivery.Subscription{Kind: delivery.SubZone, Key: "North", From: 6})
	_, subs := loadT(t, s, id, delivery.Cursor{})
	assert.Equal(t, []delivery.Subscription{
		{Kind: delivery.SubOrder, Key: "o1", From: 5},
		{Kind: delivery.SubZone, Key: "", From: 3},
		{Kind: delivery.SubZone, Key: "North", From: 6}, // bytewise: upper case first, on both backends
		{Kind: delivery.SubZone, Key: "north", From: 4},
	}, subs, "created, listed by kind then key")

	put(delivery.Subscription{Kind: delivery.SubOrder, Key: "o1", From: 8})
	put(delivery.Subscription{Kind: delivery.SubZone, Key: "north", From: 4, Until: 12})
	put(delivery.Subscription{Kind: delivery.SubZone, Key: "North", From: math.MaxInt64, Until: math.MaxInt64})
	_, subs = loadT(t, s, id, delivery.Cursor{})
	assert.Equal(t, []delivery.Subscription{
		{Kind: delivery.SubOrder, Key: "o1", From: 8},
		{Kind: delivery.SubZone, Key: "", From: 3},
		{Kind: delivery.SubZone, Key: "North", From: math.MaxInt64, Until: math.MaxInt64},
		{Kind: delivery.SubZone, Key: "north", From: 4, Until: 12},
	}, subs, "replaced and ended in place")

	put(delivery.Subscription{Kind: delivery.SubZone, Key: "north", From: 20})
	_, subs = loadT(t, s, id, delivery.Cursor{})
	require.Len(t, subs, 4)
	assert.Equal(t, delivery.Subscription{Kind: delivery.SubZone, Key: "north", From: 20}, subs[3], "an ended subscription can reopen")
}

func testRecipientIsolation(t *testing.T, s *Store) {
	ctx := context.Background()
	// The same user id in another tenant or another role is another
	// recipient.
	ids := []delivery.RecipientID{
		{Tenant: "tA", Role: "driver", User: "u1"},
		{Tenant: "tB", Role: "driver", User: "u1"},
		{Tenant: "tA", Role: "customer", User: "u1"},
		{Tenant: "tA", Role: "driver", User: "u2"},
	}
	for i, id := range ids {
		c, _ := loadT(t, s, id, delivery.Cursor{Pos: uint64(10 * (i + 1)), Seq: uint64(i)})
		assert.Equal(t, delivery.Cursor{Pos: uint64(10 * (i + 1)), Seq: uint64(i)}, c, id)
	}
	require.NoError(t, s.SaveCursors(ctx, map[delivery.RecipientID]delivery.Cursor{ids[0]: {Pos: 500, Seq: 50}}))
	require.NoError(t, s.PutSubscription(ctx, ids[0], delivery.Subscription{Kind: delivery.SubZone, Key: "north", From: 1}))
	require.NoError(t, s.PutSubscription(ctx, ids[1], delivery.Subscription{Kind: delivery.SubZone, Key: "north", From: 2, Until: 9}))

	want := []struct {
		cursor delivery.Cursor
		subs   []delivery.Subscription
	}{
		{delivery.Cursor{Pos: 500, Seq: 50}, []delivery.Subscription{{Kind: delivery.SubZone, Key: "north", From: 1}}},
		{delivery.Cursor{Pos: 20, Seq: 1}, []delivery.Subscription{{Kind: delivery.SubZone, Key: "north", From: 2, Until: 9}}},
		{delivery.Cursor{Pos: 30, Seq: 2}, []delivery.Subscription{}},
		{delivery.Cursor{Pos: 40, Seq: 3}, []delivery.Subscription{}},
	}
	for i, id := range ids {
		c, subs := loadT(t, s, id, delivery.Cursor{Pos: 999})
		assert.Equal(t, want[i].cursor, c, id)
		assert.Equal(t, want[i].subs, subs, id)
	}
}

func testPurgeSubscriptions(t *testing.T, s *Store) {
	ctx := context.Background()
	a := delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d1"}
	b := delivery.RecipientID{Tenant: "t2", Role: "customer", User: "c1"}
	require.NoError(t, s.PutSubscription(ctx, a, delivery.Subscription{Kind: delivery.SubZone, Key: "", From: 1}))
	require.NoError(t, s.PutSubscription(ctx, a, delivery.Subscription{Kind: delivery.SubZone, Key: "north", From: 1, Until: 5}))
	require.NoError(t, s.PutSubscription(ctx, b, delivery.Subscription{Kind: delivery.SubOrder, Key: "o1", From: 2, Until: 8}))

	n, err := s.PurgeSubscriptions(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "recently ended subscriptions are kept")

	n, err = s.PurgeSubscriptions(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "ended subscriptions go, in every tenant")
	_, subs := loadT(t, s, a, delivery.Cursor{})
	assert.Equal(t, []delivery.Subscription{{Kind: delivery.SubZone, Key: "", From: 1}}, subs, "an open subscription stays however old")
	_, subs = loadT(t, s, b, delivery.Cursor{})
	assert.Empty(t, subs)
}

func testRecipientOutOfRange(t *testing.T, s *Store) {
	ctx := context.Background()
	id := delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d1"}
	other := delivery.RecipientID{Tenant: "t1", Role: "driver", User: "d2"}
	const tooBig = math.MaxInt64 + 1

	tests := []struct {
		name string
		do   func() error
	}{
		{"load start pos", func() error {
			_, _, err := s.LoadRecipient(ctx, id, delivery.Cursor{Pos: tooBig})
			return err
		}},
		{"load start seq", func() error {
			_, _, err := s.LoadRecipient(ctx, id, delivery.Cursor{Seq: math.MaxUint64})
			return err
		}},
		{"save pos", func() error {
			return s.SaveCursors(ctx, map[delivery.RecipientID]delivery.Cursor{other: {Pos: 1}, id: {Pos: tooBig}})
		}},
		{"subscription from", func() error {
			return s.PutSubscription(ctx, id, delivery.Subscription{Kind: delivery.SubZone, From: tooBig})
		}},
		{"subscription until", func() error {
			return s.PutSubscription(ctx, id, delivery.Subscription{Kind: delivery.SubZone, Until: math.MaxUint64})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.do(), ErrOutOfRange)
		})
	}
	assert.Zero(t, countRows(t, s.w, s.d, `SELECT count(*) FROM recipient_cursors`),
		"nothing stored, not even the valid cursor saved with a bad one")
	assert.Zero(t, countRows(t, s.w, s.d, `SELECT count(*) FROM recipient_subscriptions`))
}
