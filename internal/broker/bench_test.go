package broker

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkPublishEmbedded is the cost of storing one durable record of
// the size of a pickup (about 600 bytes) on the embedded server, which
// fsyncs every write before acknowledging it. It prices the fan-out
// choice: one record per feed, or one per recipient.
//
//	go test -run '^$' -bench PublishEmbedded ./internal/broker
func BenchmarkPublishEmbedded(b *testing.B) {
	br := open(b, Config{DataDir: b.TempDir()})
	defer closeBroker(b, br)
	data := bytes.Repeat([]byte("x"), 600)
	subject := br.EventSubject("t1", "p", "north")
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		_, _, err := br.Publish(ctx, subject, "m"+strconv.Itoa(i), data)
		require.NoError(b, err)
	}
}
