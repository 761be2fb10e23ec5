package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll collects what Read hands out.
func readAll(t testing.TB, b *Broker, subjects []string, from, to uint64) []record {
	t.Helper()
	var got []record
	err := b.Read(context.Background(), subjects, from, to, func(pos uint64, subject string, data []byte) error {
		got = append(got, record{pos, subject, string(data)})
		return nil
	})
	require.NoError(t, err)
	return got
}

// want is the model: stored records matching any filter within [from, to].
func want(all []record, filters []string, from, to uint64) []record {
	var out []record
	for _, r := range all {
		if r.pos < from || r.pos > to {
			continue
		}
		for _, f := range filters {
			if server.SubjectMatchesFilter(r.subject, f) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// forEachReadMode runs fn with one multi-filter consumer per Read and with
// one consumer per subject (what servers before 2.10 get).
func forEachReadMode(t *testing.T, fn func(t *testing.T, b *Broker)) {
	for _, perSubject := range []bool{false, true} {
		t.Run(fmt.Sprintf("per_subject=%v", perSubject), func(t *testing.T) {
			forEachServer(t, func(t *testing.T, cfg Config) {
				b := openClosed(t, cfg)
				if perSubject {
					b.noMultiFilter.Store(true)
				}
				fn(t, b)
				t.Logf("one consumer per subject: %v", b.noMultiFilter.Load())
			})
		})
	}
}

func TestRead(t *testing.T) {
	forEachReadMode(t, func(t *testing.T, b *Broker) {
		ev := func(tokens ...string) string { return b.EventSubject(append([]string{"t1"}, tokens...)...) }
		var subjects []string
		for range 3 {
			subjects = append(subjects, ev("v", "V1"), ev("c", "C1"), ev("p", "z1"), ev("p", "z2"),
				ev("d", "D1"), b.EventSubject("t2", "v", "V1"), ev("p", "~"))
		}
		all := publish(t, b, subjects...)
		first, last := all[0].pos, all[len(all)-1].pos
		user := []string{ev("v", "V1"), ev("c", "C1"), ev("p", "*")}

		tests := []struct {
			name     string
			subjects []string
			from, to uint64
		}{
			{"several subjects with a wildcard", user, first, last},
			{"bounds are inclusive", user, all[2].pos, all[15].pos},
			{"one record", user, all[7].pos, all[7].pos},
			{"to beyond the last record", user, first, last + 100},
			{"from 0", user, 0, last},
			{"overlapping filters", []string{ev("p", "*"), ev("p", "z1"), ev("p", "z1")}, first, last},
			{"partially overlapping filters", []string{b.EventSubject("*", "v", "V1"), b.EventSubject("t1", "v", "*")}, first, last},
			{"single subject", []string{ev("d", "D1")}, first, last},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := want(all, tt.subjects, tt.from, tt.to)
				require.NotEmpty(t, w, "the case must have records to find")
				assert.Equal(t, w, readAll(t, b, tt.subjects, tt.from, tt.to))
			})
		}

		empty := []struct {
			name     string
			subjects []string
			from, to uint64
		}{
			{"no such subject", []string{ev("v", "nobody")}, first, last},
			{"matches only outside the range", []string{ev("d", "D1")}, all[5].pos, all[10].pos},
			{"from beyond the last record", user, last + 1, last + 10},
			{"from above to", user, all[10].pos, all[9].pos},
			{"to 0", user, 0, 0},
			{"no subjects", nil, first, last},
		}
		for _, tt := range empty {
			t.Run(tt.name, func(t *testing.T) {
				require.Empty(t, want(all, tt.subjects, tt.from, tt.to))
				start := time.Now()
				assert.Empty(t, readAll(t, b, tt.subjects, tt.from, tt.to))
				took := time.Since(start)
				assert.Less(t, took, 250*time.Millisecond, "nothing to read must not wait")
				t.Logf("empty read took %v", took)
			})
		}

		t.Run("handle error stops", func(t *testing.T) {
			boom := errors.New("boom")
			var calls int
			err := b.Read(context.Background(), user, first, last, func(uint64, string, []byte) error {
				calls++
				if calls == 2 {
					return boom
				}
				return nil
			})
			require.ErrorIs(t, err, boom)
			assert.Equal(t, 2, calls)
		})

		t.Run("ctx ends it", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var calls int
			err := b.Read(ctx, user, first, last, func(uint64, string, []byte) error {
				calls++
				cancel()
				return nil
			})
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 1, calls)
		})

		t.Run("consumers are deleted", func(t *testing.T) {
			info, err := b.stream.Info(context.Background())
			require.NoError(t, err)
			assert.Zero(t, info.State.Consumers)
		})
	})
}

func TestReadFromBelowFirstSequence(t *testing.T) {
	forEachReadMode(t, func(t *testing.T, b *Broker) {
		ctx := context.Background()
		s := b.EventSubject("t1", "c", "C1")
		all := publish(t, b, s, s, s, s, s, s)
		// Expiry by MaxAge removes the oldest records; purging does the same.
		require.NoError(t, b.stream.Purge(ctx, jetstream.WithPurgeSequence(all[3].pos)))
		info, err := b.stream.Info(ctx)
		require.NoError(t, err)
		require.Equal(t, all[3].pos, info.State.FirstSeq)

		assert.Equal(t, all[3:], readAll(t, b, []string{s, b.EventSubject("t1", "v", "*")}, 1, all[5].pos))
	})
}

func TestReadThousands(t *testing.T) {
	forEachReadMode(t, func(t *testing.T, b *Broker) {
		const n = 5000
		subjects := []string{b.EventSubject("t1", "c", "C1"), b.EventSubject("t1", "p", "z1"), b.EventSubject("t1", "d", "D9")}
		start := time.Now()
		var all []record
		// Acks are awaited per window: the client stalls beyond 4,000
		// outstanding async publishes.
		const window = 500
		for lo := 0; lo < n+n/4; lo += window {
			futures := make([]jetstream.PubAckFuture, 0, window)
			for i := lo; i < min(lo+window, n+n/4); i++ {
				s := subjects[i%2]
				if i%5 == 4 {
					s = subjects[2] // not read: the reader must skip it
				}
				data := fmt.Sprint(i)
				f, err := b.js.PublishAsync(s, []byte(data), jetstream.WithMsgID("bulk-"+data))
				require.NoError(t, err)
				futures = append(futures, f)
				all = append(all, record{subject: s, data: data})
			}
			for i, f := range futures {
				select {
				case ack := <-f.Ok():
					all[lo+i].pos = ack.Sequence
				case err := <-f.Err():
					require.NoError(t, err)
				case <-time.After(30 * time.Second):
					t.Fatal("publish not acknowledged")
				}
			}
		}
		t.Logf("published %d records in %v", len(all), time.Since(start))

		filters := []string{subjects[0], b.EventSubject("t1", "p", "*")}
		w := want(all, filters, all[0].pos, all[len(all)-1].pos)
		require.Len(t, w, n)
		start = time.Now()
		got := readAll(t, b, filters, all[0].pos, all[len(all)-1].pos)
		t.Logf("read %d of %d records in %v", len(got), len(all), time.Since(start))
		assert.Equal(t, w, got)
	})
}
