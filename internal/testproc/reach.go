package testproc

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// Reach counts, for each order, how many of a set of driver clients have
// read its pickup:available: what the fan-out benchmarks wait for.
type Reach struct {
	want int

	mu   sync.Mutex
	seen map[string]int
	done map[string]chan struct{} // closed once want clients have it
}

// NewReach expects every order to reach clients drivers.
func NewReach(clients int) *Reach {
	return &Reach{want: clients, seen: map[string]int{}, done: map[string]chan struct{}{}}
}

// doneLocked returns the channel of order id, made on first use.
func (r *Reach) doneLocked(id string) chan struct{} {
	ch := r.done[id]
	if ch == nil {
		ch = make(chan struct{})
		r.done[id] = ch
	}
	return ch
}

// Listen reads c's events until c closes, acking each that asks for it.
func (r *Reach) Listen(c *sioclient.Client) {
	for ev := range c.Events {
		_ = c.Ack(ev)
		var p struct {
			Order struct {
				ID string `json:"id"`
			} `json:"order"`
		}
		if ev.Name != "pickup:available" || json.Unmarshal(ev.Args[0], &p) != nil {
			continue
		}
		r.mu.Lock()
		r.seen[p.Order.ID]++
		if r.seen[p.Order.ID] == r.want {
			close(r.doneLocked(p.Order.ID))
		}
		r.mu.Unlock()
	}
}

// Wait reports whether order id reached every client within timeout.
func (r *Reach) Wait(id string, timeout time.Duration) bool {
	r.mu.Lock()
	ch := r.doneLocked(id)
	r.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-time.After(timeout):
		return false
	}
}
