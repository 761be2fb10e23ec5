package hub

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// fakeOutbox is an in-memory outbox.
type fakeOutbox struct {
	mu      sync.Mutex
	entries []OutboxEntry
	sent    map[int64]bool
}

func (f *fakeOutbox) PendingOutbox(_ context.Context, limit int) ([]OutboxEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []OutboxEntry
	for _, e := range f.entries {
		if !f.sent[e.Seq] && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeOutbox) MarkSent(_ context.Context, seqs []int64, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range seqs {
		f.sent[s] = true
	}
	return nil
}

// loopBroker stores publishes in order and hands them to its consumer, as
// a one-node stream would; failAt makes one publish fail once.
type loopBroker struct {
	mu        sync.Mutex
	published []string
	seen      map[string]bool
	failAt    int
	handle    func(string, []byte)
}

func (b *loopBroker) Subject(tokens ...string) string { return "d." + strings.Join(tokens, ".") }

func (b *loopBroker) Publish(_ context.Context, subject, msgID string, data []byte) (uint64, bool, error) {
	b.mu.Lock()
	if b.failAt > 0 && len(b.published)+1 == b.failAt {
		b.failAt = 0
		b.mu.Unlock()
		return 0, false, errors.New("broker unavailable")
	}
	if b.seen[msgID] {
		b.mu.Unlock()
		return 0, true, nil
	}
	b.seen[msgID] = true
	b.published = append(b.published, msgID)
	h := b.handle
	b.mu.Unlock()
	if h != nil {
		h(subject, data)
	}
	return uint64(len(b.published)), false, nil
}

func (b *loopBroker) Consume(_ context.Context, h func(string, []byte)) (func(), error) {
	b.mu.Lock()
	b.handle = h
	b.mu.Unlock()
	return func() {}, nil
}

func (b *loopBroker) PublishBestEffort(string, []byte) error { return nil }

func (b *loopBroker) SubscribeBestEffort(string, func([]byte)) (func(), error) { return func() {}, nil }

func change(t *testing.T, seq int64, st orders.Status) OutboxEntry {
	o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", Status: st}
	ev := orders.Event{ID: "e" + strconv.FormatInt(seq, 10), OrderID: "o1", Status: st}
	payload, err := json.Marshal(orders.Change{Order: o, Event: ev})
	require.NoError(t, err)
	return OutboxEntry{Seq: seq, Tenant: "acme", OrderID: "o1", EventID: ev.ID, Payload: payload}
}

func TestRelayKeepsOrderAcrossFailures(t *testing.T) {
	rec := &recorder{}
	log := zaptest.NewLogger(t)
	box := &fakeOutbox{sent: map[int64]bool{}, entries: []OutboxEntry{
		change(t, 1, orders.Ready), change(t, 2, orders.Assigned), change(t, 3, orders.PickedUp),
	}}
	br := &loopBroker{seen: map[string]bool{}, failAt: 2}
	c := NewCluster(New(rec, log), box, br, log)
	stop, err := br.Consume(context.Background(), c.onChange)
	require.NoError(t, err)
	defer stop()

	assert.False(t, c.relayOnce(context.Background()))
	assert.Equal(t, []string{"e1"}, br.published, "a failed publish stops the batch")
	pending, _ := box.PendingOutbox(context.Background(), 10)
	require.Len(t, pending, 2)

	c.relayOnce(context.Background())
	assert.Equal(t, []string{"e1", "e2", "e3"}, br.published, "the rest follows, in order")
	pending, _ = box.PendingOutbox(context.Background(), 10)
	assert.Empty(t, pending)

	// A row published but not marked (crash in between) is republished
	// and deduplicated by event id.
	box.sent[3] = false
	c.relayOnce(context.Background())
	assert.Equal(t, []string{"e1", "e2", "e3"}, br.published)

	var statuses []string
	for _, e := range rec.got {
		if e.ns == NSCustomers {
			var st OrderStatus
			require.NoError(t, json.Unmarshal(e.payload, &st))
			statuses = append(statuses, string(st.Status))
		}
	}
	assert.Equal(t, []string{"ready", "assigned", "picked_up"}, statuses, "consumed changes are routed in order")
}

func TestRunRelaysOnWake(t *testing.T) {
	rec := &recorder{}
	log := zaptest.NewLogger(t)
	box := &fakeOutbox{sent: map[int64]bool{}}
	br := &loopBroker{seen: map[string]bool{}}
	c := NewCluster(New(rec, log), box, br, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	box.mu.Lock()
	box.entries = append(box.entries, change(t, 1, orders.Ready))
	box.mu.Unlock()
	require.NoError(t, c.OrderChanged(ctx, orders.Order{}, orders.Event{}))
	require.Eventually(t, func() bool {
		br.mu.Lock()
		defer br.mu.Unlock()
		return len(br.published) == 1
	}, 2*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}
