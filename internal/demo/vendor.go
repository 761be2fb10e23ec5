package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
)

// vendor posts an order every OrderEvery from its store to a random
// dropoff, for a random customer, whom it tells (the customer watches).
func (c *city) vendor(ctx context.Context, p *peer) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(p.name))))
	store := randomPoint(rng, c.cfg.Center, c.cfg.Radius/2)
	go drain(p)
	// Sped up, still within the server's per-socket event budget.
	every := max(time.Duration(float64(c.cfg.OrderEvery)/c.cfg.Speed), minOrderEvery)
	// The first order within half a period (each vendor its own moment),
	// not a whole one: a newcomer's board has orders within seconds.
	next := time.NewTimer(time.Duration(rng.Int64N(int64(every/2) + 1)))
	defer next.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-next.C:
			next.Reset(every)
		}
		customer := rng.IntN(len(c.watch))
		drop := randomPoint(rng, c.cfg.Center, c.cfg.Radius)
		var r struct {
			Order struct {
				ID string `json:"id"`
			} `json:"order"`
		}
		err := p.call(ctx, "order:create", map[string]any{
			"store":      p.name,
			"customerId": fmt.Sprintf("customer-%d", customer+1),
			"pickup":     map[string]any{"address": fmt.Sprintf("%s, counter", p.name), "lat": store.Lat, "lng": store.Lng},
			"dropoff":    map[string]any{"address": fmt.Sprintf("Drop %d of %s", n, p.name), "lat": drop.Lat, "lng": drop.Lng},
			"items":      []map[string]any{{"name": "parcel", "qty": 1 + rng.IntN(3)}},
		}, &r)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("demo vendor", zap.String("vendor", p.name), zap.Error(err))
			}
			continue
		}
		c.stats.Created.Add(1)
		select {
		case c.watch[customer] <- r.Order.ID:
		default: // a customer far behind misses watching one
		}
	}
}

// maxWatching is how many orders a simulated customer watches at once;
// the oldest is let go first (the server caps watches per customer).
const maxWatching = 20

// customer watches the orders placed for it, the latest maxWatching.
func (c *city) customer(ctx context.Context, p *peer, orders <-chan string) {
	go drain(p)
	var watching []string
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-orders:
			if len(watching) == maxWatching {
				_ = p.call(ctx, "order:unwatch", map[string]any{"orderId": watching[0]}, nil)
				watching = watching[1:]
			}
			if err := p.call(ctx, "order:watch", map[string]any{"orderId": id}, nil); err != nil {
				if ctx.Err() == nil {
					c.log.Debug("demo customer", zap.String("customer", p.name), zap.Error(err))
				}
				continue
			}
			watching = append(watching, id)
		}
	}
}

// drain acks every durable event of a peer that needs none of them.
func drain(p *peer) {
	for ev := range p.c.Events {
		_ = p.c.Ack(ev)
	}
}
