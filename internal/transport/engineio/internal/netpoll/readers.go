package netpoll

import (
	"context"
	"sync"
	"time"
)

// Readers runs the poller's read jobs on goroutines that outlive one job:
// a job (a socket's reads and the handlers they call, down to the
// database) grows its goroutine's stack, and a fresh goroutine per job
// paid for that growth every time (a tenth of the CPU under load). An
// idle reader waits readerLinger for the next job and then exits, so an
// idle server still holds no reader goroutines.
//
// Goroutines: each reader, started by Run and stopped by Stop (which
// waits for them).
type Readers struct {
	jobs chan func() // unbuffered: a send succeeds only when a reader waits
	quit chan struct{}
	wg   sync.WaitGroup

	stopOnce sync.Once
}

// readerLinger is how long an idle reader waits for another job.
const readerLinger = 2 * time.Second

// NewReaders returns a pool with no reader yet.
func NewReaders() *Readers {
	return &Readers{jobs: make(chan func()), quit: make(chan struct{})}
}

// Run hands job to an idle reader, or starts one. It never blocks.
func (r *Readers) Run(job func()) {
	select {
	case r.jobs <- job:
		return
	default:
	}
	r.wg.Add(1)
	go r.loop(job)
}

func (r *Readers) loop(job func()) {
	defer r.wg.Done()
	t := time.NewTimer(readerLinger)
	defer t.Stop()
	for {
		job()
		t.Reset(readerLinger)
		select {
		case job = <-r.jobs:
		case <-t.C:
			return
		case <-r.quit:
			return
		}
	}
}

// Stop ends the idle readers and waits for all, jobs running finish
// first, or until ctx ends. It is idempotent.
func (r *Readers) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() { close(r.quit) })
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
