package demo

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/geo"
)

// job is an order a driver heard of or holds.
type job struct {
	id              string
	pickup, dropoff geo.Point
}

// driver goes on duty, subscribes to every zone's pickups and, each
// tick, drives toward its target: a random point while idle (taking the
// first order it hears of, offered or broadcast, or assigned to it), the
// pickup, then the dropoff, stepping the order through its statuses.
func (c *city) driver(ctx context.Context, p *peer) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(p.name))*7))
	pos := randomPoint(rng, c.cfg.Center, c.cfg.Radius)
	heard := make(chan job, 32)
	go listen(p, heard)
	if err := p.call(ctx, "driver:duty", map[string]any{"onDuty": true}, nil); err != nil {
		c.log.Warn("demo driver", zap.String("driver", p.name), zap.Error(err))
		return
	}
	_ = p.call(ctx, "pickups:subscribe", map[string]any{}, nil)
	var cur *job
	picked := false
	var lastSent time.Time
	target := randomPoint(rng, c.cfg.Center, c.cfg.Radius)
	t := time.NewTicker(time.Duration(float64(tick) / c.cfg.Speed))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if cur == nil {
			cur = c.take(ctx, p, heard)
			if cur != nil {
				target, picked = cur.pickup, false
			}
		}
		var arrived bool
		pos, arrived = toward(pos, target, driverSpeed*tick.Seconds())
		// At most five positions a second in real time, whatever the
		// speed-up: the server's per-socket event budget is 20 a second.
		if arrived || time.Since(lastSent) >= minSend {
			_ = p.call(ctx, "location:update", map[string]any{"lat": pos.Lat, "lng": pos.Lng}, nil)
			lastSent = time.Now()
		}
		if !arrived {
			continue
		}
		switch {
		case cur == nil:
			target = randomPoint(rng, c.cfg.Center, c.cfg.Radius)
		case !picked:
			c.step(ctx, p, cur.id, "order:picked_up", "order:in_transit")
			target, picked = cur.dropoff, true
		default:
			if c.step(ctx, p, cur.id, "order:delivered") {
				c.stats.Delivered.Add(1)
			}
			cur = nil
			target = randomPoint(rng, c.cfg.Center, c.cfg.Radius)
		}
	}
}

// take claims the first order heard of that is still to be had; one
// assigned to the driver (auto) is its already.
func (c *city) take(ctx context.Context, p *peer, heard <-chan job) *job {
	for {
		select {
		case j := <-heard:
			if j.id == "" {
				continue
			}
			if err := p.call(ctx, "pickup:claim", map[string]any{"orderId": j.id}, nil); err != nil {
				continue // someone else was quicker, or it was cancelled
			}
			c.stats.Claimed.Add(1)
			return &j
		default:
			return nil
		}
	}
}

// step moves the order through events; false when one was refused (the
// order was taken away or cancelled meanwhile).
func (c *city) step(ctx context.Context, p *peer, id string, events ...string) bool {
	for _, ev := range events {
		if err := p.call(ctx, ev, map[string]any{"orderId": id}, nil); err != nil {
			if ctx.Err() == nil {
				c.log.Debug("demo driver step", zap.String("driver", p.name), zap.String("event", ev), zap.Error(err))
			}
			return false
		}
	}
	return true
}

// listen acks every durable event and passes on the orders offered or
// broadcast (pickup:offer, pickup:available, order:assigned).
func listen(p *peer, heard chan<- job) {
	for ev := range p.c.Events {
		_ = p.c.Ack(ev)
		switch ev.Name {
		case "pickup:available", "pickup:offer", "order:assigned":
		default:
			continue
		}
		var m struct {
			Order struct {
				ID      string `json:"id"`
				Pickup  struct{ Lat, Lng float64 }
				Dropoff struct{ Lat, Lng float64 }
			} `json:"order"`
		}
		if len(ev.Args) == 0 || json.Unmarshal(ev.Args[0], &m) != nil {
			continue
		}
		o := m.Order
		select {
		case heard <- job{id: o.ID, pickup: geo.Point{Lat: o.Pickup.Lat, Lng: o.Pickup.Lng},
			dropoff: geo.Point{Lat: o.Dropoff.Lat, Lng: o.Dropoff.Lng}}:
		default: // a busy driver lets the rest go by
		}
	}
}
