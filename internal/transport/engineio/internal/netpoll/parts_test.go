package netpoll

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuffersKeepAtMostKept(t *testing.T) {
	b := NewBuffers(16, 2)
	got := []*[]byte{b.Get(), b.Get(), b.Get()}
	for _, p := range got {
		require.Len(t, *p, 16)
	}
	for _, p := range got {
		b.Put(p)
	}
	assert.Equal(t, 2, b.Spare(), "the third buffer is garbage")
	assert.Same(t, got[0], b.Get(), "a spare is reused")
}

func TestGroupWaitsForEveryAdd(t *testing.T) {
	var g Group
	require.NoError(t, g.Wait(context.Background()), "nothing counted")
	g.Add()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, g.Wait(ctx), context.DeadlineExceeded)

	waited := make(chan error, 1)
	go func() { waited <- g.Wait(context.Background()) }()
	g.Add() // while waited on
	g.Done()
	select {
	case <-waited:
		t.Fatal("Wait returned with one goroutine still counted")
	case <-time.After(20 * time.Millisecond):
	}
	g.Done()
	require.NoError(t, <-waited)
}

type timed struct{ slot int }

func TestWheelFiresOnceAndRemoveCancels(t *testing.T) {
	fired := make(chan *timed, 4)
	w := NewWheel(time.Millisecond, 50*time.Millisecond,
		func(c *timed) *int { return &c.slot }, func(c *timed, _ int64) { fired <- c })
	defer w.Stop()
	a, b := &timed{slot: -1}, &timed{slot: -1}
	w.Schedule(a, 5*time.Millisecond)
	w.Schedule(b, 5*time.Millisecond)
	w.Remove(b)
	w.Schedule(a, 10*time.Millisecond) // replaces a's first deadline
	select {
	case c := <-fired:
		require.Same(t, a, c)
	case <-time.After(time.Second):
		t.Fatal("a never fired")
	}
	select {
	case c := <-fired:
		t.Fatalf("fired again: %p (a %p, b %p)", c, a, b)
	case <-time.After(30 * time.Millisecond):
	}
	assert.Equal(t, -1, a.slot, "a fired slot is cleared")
}
