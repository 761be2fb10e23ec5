package transport

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestOnUnknown: an event without a handler reaches the namespace's
// fallback, with the ack when the client asked for one; events with a
// handler and other namespaces are not affected.
func TestOnUnknown(t *testing.T) {
	type heard struct {
		event  string
		hasAck bool
	}
	var (
		mu  sync.Mutex
		got []heard
	)
	_, url := startServer(t, Config{}, func(srv *Server) {
		srv.Of("/")
		ns := srv.Of("/orders")
		ns.On("known", func(s *Socket, _ *Message, ack Ack) { _ = ack("known") })
		ns.OnUnknown(func(s *Socket, event string, ack Ack) {
			mu.Lock()
			got = append(got, heard{event, ack != nil})
			mu.Unlock()
			if ack != nil {
				_ = ack("unknown " + event + " on " + s.Namespace().Name())
			}
		})
	})
	c := dial(t, url)
	c.join("/orders")
	c.send(`42/orders,1["known"]`)
	c.expect(`43/orders,1["known"]`)
	c.send(`42/orders,2["knwon",{"x":1}]`)
	c.expect(`43/orders,2["unknown knwon on /orders"]`)
	c.send(`42/orders,["no ack"]`)
	c.send(`42/orders,3["known"]`)
	c.expect(`43/orders,3["known"]`)
	// A namespace without a fallback still ignores unknown events.
	c.join("/")
	c.send(`424["knwon"]`)
	c.quiet(100 * time.Millisecond)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []heard{{"knwon", true}, {"no ack", false}}, got)
}
