// Package demo is a simulated city for `dispatchd demo`: vendors posting
// orders, drivers on duty driving straight lines to pickups and dropoffs
// and through every step, customers watching their orders. It speaks to a
// server over Socket.IO like any client, so what a newcomer sees on the
// console is the real system at work.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// Config shapes the city. Zero fields take DefaultConfig's values.
type Config struct {
	URL        string      // the server, http://host:port
	Auth       auth.Config // signs the simulated users' tokens
	Tenant     string
	Drivers    int
	Vendors    int
	Customers  int
	OrderEvery time.Duration // per vendor
	Center     geo.Point
	Radius     float64 // meters: where stores, drivers and dropoffs are
	// Speed multiplies the simulated clock: 1 is real time (drivers at
	// 8.3 m/s, a position a second); tests run faster.
	Speed float64
}

// DefaultConfig is a small city around Berlin's centre.
func DefaultConfig() Config {
	return Config{Tenant: "demo", Drivers: 30, Vendors: 3, Customers: 8, OrderEvery: 4 * time.Second,
		Center: geo.Point{Lat: 52.5200, Lng: 13.4050}, Radius: 3000, Speed: 1}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	for _, f := range []struct {
		v   *int
		def int
	}{{&c.Drivers, d.Drivers}, {&c.Vendors, d.Vendors}, {&c.Customers, d.Customers}} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	if c.Tenant == "" {
		c.Tenant = d.Tenant
	}
	if c.OrderEvery <= 0 {
		c.OrderEvery = d.OrderEvery
	}
	if c.Center == (geo.Point{}) {
		c.Center = d.Center
	}
	if c.Radius <= 0 {
		c.Radius = d.Radius
	}
	if c.Speed <= 0 {
		c.Speed = d.Speed
	}
	return c
}

// Stats count what the city did.
type Stats struct {
	Created, Claimed, Delivered atomic.Int64
}

const (
	driverSpeed = 8.3 // m/s, about 30 km/h in town
	tick        = time.Second
	callTimeout = 10 * time.Second
	tokenTTL    = 24 * time.Hour
	minSend     = 200 * time.Millisecond // between a driver's positions
	// minOrderEvery is a vendor's fastest pace in real time, however
	// sped up.
	minOrderEvery = 250 * time.Millisecond
)

// city is one run.
type city struct {
	cfg   Config
	log   *zap.Logger
	stats *Stats
	// watch hands each customer the orders placed for it.
	watch []chan string
}

// Run plays the city until ctx ends; it returns nil then, or the first
// user that could not connect.
func Run(ctx context.Context, cfg Config, stats *Stats, log *zap.Logger) error {
	cfg = cfg.withDefaults()
	c := &city{cfg: cfg, log: log, stats: stats}
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Drivers+cfg.Vendors+cfg.Customers)
	start := func(name string, role orders.Role, play func(context.Context, *peer)) {
		p, err := c.connect(ctx, name, role)
		if err != nil {
			errs <- fmt.Errorf("%s: %w", name, err)
			return
		}
		wg.Go(func() {
			defer p.c.Close()
			play(ctx, p)
		})
	}
	c.watch = make([]chan string, cfg.Customers)
	for i := range cfg.Customers {
		c.watch[i] = make(chan string, 64)
		start(fmt.Sprintf("customer-%d", i+1), orders.RoleCustomer, func(ctx context.Context, p *peer) { c.customer(ctx, p, c.watch[i]) })
	}
	for i := range cfg.Drivers {
		start(fmt.Sprintf("driver-%02d", i+1), orders.RoleDriver, c.driver)
	}
	for i := range cfg.Vendors {
		start(fmt.Sprintf("vendor-%d", i+1), orders.RoleVendor, c.vendor)
	}
	wg.Wait()
	close(errs)
	var first error
	for err := range errs {
		first = errors.Join(first, err)
	}
	if ctx.Err() != nil && first == nil {
		return nil
	}
	return first
}

// peer is one simulated user's connection.
type peer struct {
	name string
	ns   string
	c    *sioclient.Client
}

func (c *city) connect(ctx context.Context, name string, role orders.Role) (*peer, error) {
	tok, err := auth.Sign(c.cfg.Auth, auth.Claims{Subject: name, Tenant: c.cfg.Tenant, Role: role}, tokenTTL, time.Now())
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cl, err := sioclient.Dial(dctx, c.cfg.URL)
	if err != nil {
		return nil, err
	}
	ns := "/" + string(role) + "s"
	if _, err := cl.Connect(dctx, ns, map[string]string{"token": tok}); err != nil {
		_ = cl.Close()
		return nil, err
	}
	return &peer{name: name, ns: ns, c: cl}, nil
}

// call sends event and decodes the ack's object into out (may be nil);
// a refusal is an error.
func (p *peer) call(ctx context.Context, event string, arg, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	got, err := p.c.Call(ctx, p.ns, event, arg)
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("%s: %d ack arguments", event, len(got))
	}
	var r struct {
		OK    bool `json:"ok"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(got[0], &r); err != nil {
		return err
	}
	if !r.OK {
		if r.Error != nil {
			return fmt.Errorf("%s: %s: %s", event, r.Error.Code, r.Error.Message)
		}
		return fmt.Errorf("%s refused", event)
	}
	if out != nil {
		return json.Unmarshal(got[0], out)
	}
	return nil
}

// randomPoint is uniform over the disc of radius meters around center.
func randomPoint(rng *rand.Rand, center geo.Point, radius float64) geo.Point {
	r := radius * math.Sqrt(rng.Float64())
	theta := 2 * math.Pi * rng.Float64()
	dLat := r * math.Cos(theta) / 111_320
	dLng := r * math.Sin(theta) / (111_320 * math.Cos(center.Lat*math.Pi/180))
	return geo.Point{Lat: center.Lat + dLat, Lng: center.Lng + dLng}
}

// toward moves from a to b by at most meters; arrived when it got there.
func toward(a, b geo.Point, meters float64) (geo.Point, bool) {
	d := geo.Distance(a, b)
	if d <= meters || d == 0 {
		return b, true
	}
	f := meters / d
	return geo.Point{Lat: a.Lat + (b.Lat-a.Lat)*f, Lng: a.Lng + (b.Lng-a.Lng)*f}, false
}
