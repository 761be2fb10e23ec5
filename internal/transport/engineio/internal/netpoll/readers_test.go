package netpoll

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadersReuseGoroutinesAndStop(t *testing.T) {
	r := NewReaders()
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		r.Run(func() { wg.Done() })
		wg.Wait() // one job at a time: the same reader takes the next
	}
	before := runtime.NumGoroutine()
	block := make(chan struct{})
	started := make(chan struct{})
	r.Run(func() { close(started); <-block })
	<-started
	// The only reader is busy: the next job gets a goroutine of its own.
	wg.Add(1)
	r.Run(func() { wg.Done() })
	wg.Wait()
	require.LessOrEqual(t, runtime.NumGoroutine(), before+1)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, r.Stop(ctx), context.DeadlineExceeded, "a running job holds stop")
	close(block)
	require.NoError(t, r.Stop(context.Background()))
}
