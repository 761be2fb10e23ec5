package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

func open(t testing.TB, cfg Config) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg, zaptest.NewLogger(t))
	require.NoError(t, err)
	return b
}

func closeBroker(t testing.TB, b *Broker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.Close(ctx)
}

// openClosed opens a broker that is closed when the test ends.
func openClosed(t testing.TB, cfg Config) *Broker {
	t.Helper()
	b := open(t, cfg)
	t.Cleanup(func() { closeBroker(t, b) })
	return b
}

// forEachServer runs fn against a fresh embedded server and, when
// DISPATCH_TEST_NATS_URL is set, against that external server with a
// stream and prefix of its own, deleted afterwards.
func forEachServer(t *testing.T, fn func(t *testing.T, cfg Config)) {
	t.Run("embedded", func(t *testing.T) {
		fn(t, Config{DataDir: t.TempDir()})
	})
	t.Run("external", func(t *testing.T) {
		url := os.Getenv("DISPATCH_TEST_NATS_URL")
		if url == "" {
			t.Skip("DISPATCH_TEST_NATS_URL not set: no external NATS server to test against")
		}
		var r [6]byte
		_, _ = rand.Read(r[:])
		id := "test" + hex.EncodeToString(r[:])
		cfg := Config{URL: url, Stream: "T_" + id, Prefix: id}
		t.Cleanup(func() {
			b := open(t, cfg)
			defer closeBroker(t, b)
			require.False(t, b.Embedded())
			require.NoError(t, b.js.DeleteStream(context.Background(), cfg.Stream))
		})
		fn(t, cfg)
	})
}

func streamMsgs(t testing.TB, b *Broker) uint64 {
	t.Helper()
	info, err := b.stream.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

func TestEmbeddedSyncsEveryWrite(t *testing.T) {
	b := openClosed(t, Config{DataDir: t.TempDir()})
	require.True(t, b.Embedded())
	v, err := b.server.Varz(nil)
	require.NoError(t, err)
	require.NotNil(t, v.JetStream.Config)
	assert.True(t, v.JetStream.Config.SyncAlways, "acknowledged writes must be fsynced before the ack")
	assert.Nil(t, b.server.Addr(), "no listening port unless configured")
	require.NoError(t, b.Ready(context.Background()))
}

func TestPublishDeduplicates(t *testing.T) {
	forEachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		b := openClosed(t, cfg)
		subject := b.EventSubject("t1", "v", "V1")
		seq, dup, err := b.Publish(ctx, subject, "event-1", []byte(`{"n":1}`))
		require.NoError(t, err)
		assert.False(t, dup)
		again, dup, err := b.Publish(ctx, subject, "event-1", []byte(`{"n":1}`))
		require.NoError(t, err)
		assert.True(t, dup, "a retried publish with the same id is deduplicated")
		assert.Equal(t, seq, again)

		msg, err := b.stream.GetMsg(ctx, seq)
		require.NoError(t, err)
		assert.Equal(t, `{"n":1}`, string(msg.Data))
		assert.Equal(t, uint64(1), streamMsgs(t, b))
	})
}

func TestEmbeddedKeepsRecordsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b := open(t, Config{DataDir: dir})
	_, _, err := b.Publish(context.Background(), b.EventSubject("t1", "v", "V1"), "event-1", []byte(`{}`))
	require.NoError(t, err)
	closeBroker(t, b)

	b = openClosed(t, Config{DataDir: dir})
	assert.Equal(t, uint64(1), streamMsgs(t, b))
}

func TestSubjects(t *testing.T) {
	b := &Broker{cfg: Config{}.withDefaults()}
	assert.Equal(t, "dispatch.t1.order.o1", b.Subject("t1", "order", "o1"))
	assert.Equal(t, "dispatch", b.Subject())
	assert.Equal(t, "dispatch.ev.t1.v.V1", b.EventSubject("t1", "v", "V1"))
	assert.Equal(t, "dispatch.ev.t1.p.*", b.EventSubject("t1", "p", "*"))
	assert.Equal(t, "dispatch.loc", b.LocationSubject())
}

func TestLocationIsNotStored(t *testing.T) {
	forEachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		b := openClosed(t, cfg)
		_, _, err := b.Publish(ctx, b.EventSubject("t1", "d", "D1"), "event-1", []byte(`{}`))
		require.NoError(t, err)
		before := streamMsgs(t, b)

		got := make(chan []byte, 1)
		stop, err := b.SubscribeBestEffort(b.LocationSubject(), func(data []byte) { got <- data })
		require.NoError(t, err)
		require.NoError(t, b.Conn().Flush())
		require.NoError(t, b.PublishBestEffort(b.LocationSubject(), []byte(`{"lat":1}`)))
		select {
		case data := <-got:
			assert.Equal(t, `{"lat":1}`, string(data))
		case <-time.After(5 * time.Second):
			t.Fatal("location message not delivered on core NATS")
		}
		assert.Equal(t, before, streamMsgs(t, b), "positions must not be stored")
		// Without our subscriber the JetStream publish meets no
		// responders at once instead of waiting for an ack.
		stop()
		_, _, err = b.Publish(ctx, b.LocationSubject(), "loc-1", []byte(`{}`))
		assert.Error(t, err, "no stream captures the location subject")
		assert.Equal(t, before, streamMsgs(t, b))
	})
}

func TestOpenMovesStreamToEventSubjects(t *testing.T) {
	forEachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		// The layout before feed records: everything under the prefix.
		old := open(t, cfg)
		info, err := old.stream.Info(ctx)
		require.NoError(t, err)
		sc := info.Config
		sc.Subjects = []string{old.Subject(">")}
		_, err = old.js.UpdateStream(ctx, sc)
		require.NoError(t, err)
		_, err = old.js.Publish(ctx, old.LocationSubject(), []byte(`{"lat":1}`))
		require.NoError(t, err, "the old layout stored positions")
		evPos, _, err := old.Publish(ctx, old.EventSubject("t1", "v", "V1"), "event-1", []byte(`{}`))
		require.NoError(t, err)
		closeBroker(t, old)

		b := openClosed(t, cfg)
		info, err = b.stream.Info(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{b.EventSubject(">")}, info.Config.Subjects)

		// The stored position is still there but is not a feed record.
		got := make(chan uint64, 10)
		stop, err := b.Follow(ctx, 0, func(pos uint64, _ string, _ []byte) { got <- pos })
		require.NoError(t, err)
		defer stop()
		select {
		case pos := <-got:
			assert.Equal(t, evPos, pos)
		case <-time.After(5 * time.Second):
			t.Fatal("feed record not followed")
		}
	})
}

func TestLastPos(t *testing.T) {
	forEachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		b := openClosed(t, cfg)
		pos, err := b.LastPos(ctx)
		require.NoError(t, err)
		assert.Zero(t, pos)
		var seq uint64
		for i := range 3 {
			seq, _, err = b.Publish(ctx, b.EventSubject("t1", "c", "C1"), "e"+string(rune('a'+i)), []byte(`{}`))
			require.NoError(t, err)
		}
		pos, err = b.LastPos(ctx)
		require.NoError(t, err)
		assert.Equal(t, seq, pos)

		// Positions keep counting after old records go.
		require.NoError(t, b.stream.Purge(ctx))
		pos, err = b.LastPos(ctx)
		require.NoError(t, err)
		assert.Equal(t, seq, pos)
	})
}

// TestRetentionIsTheStreamsMaxAge: unacknowledged events are kept for
// delivery.retention, which is the stream's MaxAge (default 24h).
func TestRetentionIsTheStreamsMaxAge(t *testing.T) {
	for _, tt := range []struct {
		give, want time.Duration
	}{{0, 24 * time.Hour}, {90 * time.Minute, 90 * time.Minute}} {
		b := open(t, Config{DataDir: t.TempDir(), Retention: tt.give})
		info, err := b.stream.Info(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tt.want, info.Config.MaxAge)
		closeBroker(t, b)
	}
}
