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

func open(t *testing.T, cfg Config) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg, zaptest.NewLogger(t))
	require.NoError(t, err)
	return b
}

func closeBroker(t *testing.T, b *Broker) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.Close(ctx)
}

func TestEmbeddedSyncsEveryWrite(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	defer closeBroker(t, b)
	require.True(t, b.Embedded())
	v, err := b.server.Varz(nil)
	require.NoError(t, err)
	require.NotNil(t, v.JetStream.Config)
	assert.True(t, v.JetStream.Config.SyncAlways, "acknowledged writes must be fsynced before the ack")
	assert.Nil(t, b.server.Addr(), "no listening port unless configured")
	require.NoError(t, b.Ready(context.Background()))
}

// suite runs against the embedded server and, when configured, an
// external one.
func suite(t *testing.T, cfg Config) {
	ctx := context.Background()
	b := open(t, cfg)
	defer closeBroker(t, b)

	subject := b.Subject("t1", "order", "o1")
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
	info, err := b.stream.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs)
}

func TestEmbedded(t *testing.T) {
	dir := t.TempDir()
	suite(t, Config{DataDir: dir})

	// Stored events survive a restart of the embedded server.
	b := open(t, Config{DataDir: dir})
	defer closeBroker(t, b)
	info, err := b.stream.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs)
}

func TestExternal(t *testing.T) {
	url := os.Getenv("DISPATCH_TEST_NATS_URL")
	if url == "" {
		t.Skip("DISPATCH_TEST_NATS_URL not set: no external NATS server to test against")
	}
	// A stream and subject space of its own, removed afterwards.
	var r [6]byte
	_, _ = rand.Read(r[:])
	id := "test" + hex.EncodeToString(r[:])
	cfg := Config{URL: url, Stream: "T_" + id, Prefix: id}
	suite(t, cfg)
	b := open(t, cfg)
	defer closeBroker(t, b)
	require.False(t, b.Embedded())
	require.NoError(t, b.js.DeleteStream(context.Background(), cfg.Stream))
}
