//go:build unix

package faults

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// requireEnv returns the named environment variables, skipping t unless
// all are set.
func requireEnv(t *testing.T, names ...string) []string {
	t.Helper()
	out := make([]string, len(names))
	for i, n := range names {
		if out[i] = os.Getenv(n); out[i] == "" {
			t.Skipf("%s is not set: this test needs %s", n, strings.Join(names, " and "))
		}
	}
	return out
}

// sharedStream returns a stream name and subject prefix no other test
// uses on a shared NATS, and deletes the stream at cleanup.
func sharedStream(t *testing.T, natsURL string) (stream, prefix string) {
	t.Helper()
	id := testproc.RandomHex(t, 5)
	stream, prefix = "FAULTS_"+strings.ToUpper(id), "faults_"+id
	t.Cleanup(func() {
		nc, err := nats.Connect(natsURL, nats.Timeout(5*time.Second))
		if err != nil {
			t.Logf("delete stream %s: %v", stream, err)
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Logf("delete stream %s: %v", stream, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil {
			t.Logf("delete stream %s: %v", stream, err)
		}
	})
	return stream, prefix
}
