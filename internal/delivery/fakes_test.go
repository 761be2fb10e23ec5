package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// memLog is an in-memory Log and Publisher: positions are 1, 2, 3, …; a
// publish with a known message id is a duplicate. failAt makes the
// failAt-th publish attempt fail once.
type memLog struct {
	mu      sync.Mutex
	subj    []string
	data    [][]byte
	ids     map[string]uint64
	grew    chan struct{} // closed and replaced on every append
	reads   int
	failAt  int
	tries   int
	follows int
	batches [][]string // subjects of each PublishBatch call
}

func newMemLog() *memLog {
	return &memLog{ids: map[string]uint64{}, grew: make(chan struct{})}
}

func (l *memLog) EventSubject(tokens ...string) string { return "x.ev." + strings.Join(tokens, ".") }

func (l *memLog) LastPos(context.Context) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.data)), nil
}

func (l *memLog) Publish(_ context.Context, subject, msgID string, data []byte) (uint64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tries++
	if l.failAt > 0 && l.tries == l.failAt {
		return 0, false, errors.New("log unavailable")
	}
	if pos, ok := l.ids[msgID]; ok {
		return pos, true, nil
	}
	l.subj = append(l.subj, subject)
	l.data = append(l.data, slices.Clone(data))
	pos := uint64(len(l.data))
	l.ids[msgID] = pos
	close(l.grew)
	l.grew = make(chan struct{})
	return pos, false, nil
}

func (l *memLog) PublishBatch(ctx context.Context, msgs []delivery.LogMessage) []delivery.PublishResult {
	subjects := make([]string, len(msgs))
	for i, m := range msgs {
		subjects[i] = m.Subject
	}
	l.mu.Lock()
	l.batches = append(l.batches, subjects)
	l.mu.Unlock()
	out := make([]delivery.PublishResult, len(msgs))
	for i, m := range msgs {
		pos, dup, err := l.Publish(ctx, m.Subject, m.ID, m.Data)
		out[i] = delivery.PublishResult{Pos: pos, Duplicate: dup, Err: err}
	}
	return out
}

func (l *memLog) Follow(_ context.Context, after uint64, handle func(uint64, string, []byte)) (func(), error) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	l.mu.Lock()
	l.follows++
	l.mu.Unlock()
	go func() {
		defer close(stopped)
		next := after + 1
		for {
			l.mu.Lock()
			n := uint64(len(l.data))
			grew := l.grew
			l.mu.Unlock()
			for ; next <= n; next++ {
				l.mu.Lock()
				s, d := l.subj[next-1], l.data[next-1]
				l.mu.Unlock()
				handle(next, s, d)
			}
			select {
			case <-done:
				return
			case <-grew:
			}
		}
	}()
	return func() { close(done); <-stopped }, nil
}

func (l *memLog) Read(ctx context.Context, subjects []string, from, to uint64, handle func(uint64, string, []byte) error) error {
	l.mu.Lock()
	l.reads++
	n := uint64(len(l.data))
	l.mu.Unlock()
	for pos := max(from, 1); pos <= min(to, n); pos++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		s, d := l.subj[pos-1], l.data[pos-1]
		l.mu.Unlock()
		if !slices.ContainsFunc(subjects, func(f string) bool { return subjectMatch(f, s) }) {
			continue
		}
		if err := handle(pos, s, d); err != nil {
			return err
		}
	}
	return nil
}

// subjectMatch is NATS matching for the '*' wildcard.
func subjectMatch(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	if len(f) != len(s) {
		return false
	}
	for i := range f {
		if f[i] != "*" && f[i] != s[i] {
			return false
		}
	}
	return true
}

// memRecipients is an in-memory Recipients.
type memRecipients struct {
	mu      sync.Mutex
	cursors map[delivery.RecipientID]delivery.Cursor
	subs    map[delivery.RecipientID][]delivery.Subscription
	saves   int
}

func newMemRecipients() *memRecipients {
	return &memRecipients{cursors: map[delivery.RecipientID]delivery.Cursor{}, subs: map[delivery.RecipientID][]delivery.Subscription{}}
}

func (m *memRecipients) LoadRecipient(_ context.Context, id delivery.RecipientID, start delivery.Cursor) (delivery.Cursor, []delivery.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cursors[id]
	if !ok {
		c = start
		m.cursors[id] = c
	}
	return c, slices.Clone(m.subs[id]), nil
}

func (m *memRecipients) SaveCursors(_ context.Context, cs map[delivery.RecipientID]delivery.Cursor) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	for id, c := range cs {
		if old, ok := m.cursors[id]; !ok || c.Pos > old.Pos {
			m.cursors[id] = c
		}
	}
	return nil
}

func (m *memRecipients) PutSubscription(_ context.Context, id delivery.RecipientID, sub delivery.Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.subs[id] {
		if s.Kind == sub.Kind && s.Key == sub.Key {
			m.subs[id][i] = sub
			return nil
		}
	}
	m.subs[id] = append(m.subs[id], sub)
	return nil
}

func (m *memRecipients) cursor(id delivery.RecipientID) delivery.Cursor {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[id]
}

// delivered is one event a fakeConn was handed.
type delivered struct {
	event   string
	payload string
	ack     func()
}

// fakeConn records deliveries; the test acks them.
type fakeConn struct {
	mu  sync.Mutex
	got []delivered
	in  chan struct{}
}

func newFakeConn() *fakeConn { return &fakeConn{in: make(chan struct{}, 1<<16)} }

func (c *fakeConn) Deliver(event string, payload []byte, acked func()) error {
	c.mu.Lock()
	c.got = append(c.got, delivered{event: event, payload: string(payload), ack: acked})
	c.mu.Unlock()
	c.in <- struct{}{}
	return nil
}

func (c *fakeConn) all() []delivered {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// waitN waits until c has been handed n events in all and returns them.
func (c *fakeConn) waitN(t *testing.T, n int) []delivered {
	t.Helper()
	if !assert.Eventually(t, func() bool { return len(c.all()) >= n }, 5*time.Second, time.Millisecond) {
		require.FailNow(t, fmt.Sprintf("want %d deliveries, have %d", n, len(c.all())))
	}
	return c.all()
}

// quiet asserts that c gets nothing more than it has for a moment.
func (c *fakeConn) quiet(t *testing.T, n int) {
	t.Helper()
	time.Sleep(50 * time.Millisecond) // a negative check has to wait some time
	require.Len(t, c.all(), n)
}
