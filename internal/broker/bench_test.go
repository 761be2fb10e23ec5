package broker

import (
	"bytes"
	"context"
	"fmt"
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

// BenchmarkPublishBatch compares a batch sent pipelined (one fsync per
// message on the embedded server) with one atomic batch (one fsync for
// all, plus the server's staging); atomicMin is chosen from it.
func BenchmarkPublishBatch(b *testing.B) {
	for _, mode := range []string{"pipelined", "atomic"} {
		for _, n := range []int{1, 8, 16, 64, 256} {
			b.Run(fmt.Sprintf("%s/n=%d", mode, n), func(b *testing.B) {
				br := open(b, Config{DataDir: b.TempDir()})
				defer closeBroker(b, br)
				ctx := context.Background()
				b.ResetTimer()
				for i := range b.N {
					msgs := batchOf(br, fmt.Sprintf("r%d-", i), n)
					for j := range msgs {
						msgs[j].Data = bytes.Repeat([]byte("x"), 600)
					}
					if mode == "atomic" {
						_, err := br.publishAtomic(ctx, msgs)
						require.NoError(b, err)
						continue
					}
					for _, r := range br.publishPipelined(ctx, msgs) {
						require.NoError(b, r.Err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/msg")
			})
		}
	}
}
