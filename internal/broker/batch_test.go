package broker

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

func TestPublishBatch(t *testing.T) {
	forEachServer(t, func(t *testing.T, cfg Config) {
		b := open(t, cfg)
		defer closeBroker(t, b)
		ctx := context.Background()
		msgs := make([]delivery.LogMessage, 300)
		for i := range msgs {
			msgs[i] = delivery.LogMessage{Subject: b.EventSubject("t1", "v", "v1"), ID: fmt.Sprintf("m%d", i), Data: []byte(fmt.Sprint(i))}
		}
		res := b.PublishBatch(ctx, msgs)
		require.Len(t, res, len(msgs))
		for i, r := range res {
			require.NoError(t, r.Err)
			assert.False(t, r.Duplicate)
			if i > 0 {
				assert.Equal(t, res[i-1].Pos+1, r.Pos, "stored in the order sent")
			}
		}
		again := b.PublishBatch(ctx, msgs[:10])
		for i, r := range again {
			require.NoError(t, r.Err)
			assert.True(t, r.Duplicate, "a retried message is a duplicate")
			assert.Equal(t, res[i].Pos, r.Pos)
		}
		bad := b.PublishBatch(ctx, []delivery.LogMessage{{Subject: "elsewhere.x", ID: "x", Data: []byte("x")}})
		assert.Error(t, bad[0].Err, "a subject outside the stream is refused")
	})
}

func batchOf(b *Broker, prefix string, n int) []delivery.LogMessage {
	msgs := make([]delivery.LogMessage, n)
	for i := range msgs {
		msgs[i] = delivery.LogMessage{Subject: b.EventSubject("t1", "p", "north"), ID: fmt.Sprintf("%s%d", prefix, i), Data: []byte(fmt.Sprintf("%s%d", prefix, i))}
	}
	return msgs
}

// TestPublishBatchAtomic: on a server with atomic batches, a large batch
// is stored whole and in order; a batch holding messages stored before
// (a relay retrying after a crash) or one that cannot be stored whole
// falls back to one by one, deduplicated, losing nothing.
func TestPublishBatchAtomic(t *testing.T) {
	b := openClosed(t, Config{DataDir: t.TempDir()})
	require.True(t, b.atomicBatches, "the embedded server is recent enough")
	ctx := context.Background()

	first := batchOf(b, "a", 40)
	res, err := b.publishAtomic(ctx, first)
	require.NoError(t, err, "stored as one atomic batch")
	for i, r := range res {
		require.NoError(t, r.Err)
		assert.False(t, r.Duplicate)
		assert.Equal(t, uint64(i+1), r.Pos)
	}
	got := readAll(t, b, []string{b.EventSubject(">")}, 1, 40)
	require.Len(t, got, 40)
	for i, r := range got {
		assert.Equal(t, uint64(i+1), r.pos)
		assert.Equal(t, fmt.Sprintf("a%d", i), r.data, "stored in the order sent")
	}

	// Half of it again, with 20 new: the atomic batch is refused for its
	// duplicates, and the fallback stores only the new ones.
	mixed := append(append([]delivery.LogMessage{}, first[20:]...), batchOf(b, "b", 20)...)
	res = b.PublishBatch(ctx, mixed)
	for i, r := range res {
		require.NoError(t, r.Err)
		if i < 20 {
			assert.True(t, r.Duplicate)
			assert.Equal(t, uint64(21+i), r.Pos, "a duplicate reports where it was stored")
		} else {
			assert.False(t, r.Duplicate)
			assert.Equal(t, uint64(41+i-20), r.Pos)
		}
	}
	assert.Equal(t, uint64(60), streamMsgs(t, b))

	// One message the stream does not take: the rest is still stored.
	withBad := batchOf(b, "c", 20)
	withBad[5].Subject = "elsewhere.x"
	res = b.PublishBatch(ctx, withBad)
	for i, r := range res {
		if i == 5 {
			assert.Error(t, r.Err)
			continue
		}
		require.NoError(t, r.Err)
	}
	assert.Equal(t, uint64(79), streamMsgs(t, b))
}

func TestVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"2.12.0", true},
		{"2.15.2", true},
		{"3.0.0", true},
		{"2.11.9", false},
		{"2.9.10", false},
		{"1.20.0", false},
		{"2.12.0-beta.1", true},
		{"", false},
		{"two.twelve", false},
	} {
		assert.Equal(t, tc.want, versionAtLeast(tc.version, 2, 12), tc.version)
	}
}
