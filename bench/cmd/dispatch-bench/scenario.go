package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// user is one authenticated socket of the scenario. seq is touched only by
// its connection's reader goroutine (and read once the reader is done).
type user struct {
	b      *bench
	c      *conn
	tenant int // -1: the canary tenant
	idx    int
	seq    seqChecker
}

type tenantUsers struct {
	name                        string
	vendors, drivers, customers []*user
}

// bench is one run of the dispatch scenario (dispatch and ramp modes).
type bench struct {
	cfg    config
	run    string     // makes this run's tenants and stores unique
	eps    []*url.URL // the nodes; user i of each role connects to eps[i % len]
	orders *orderTable
	st     *stats
	steps  *stepSet

	tenants []*tenantUsers
	canary  *tenantUsers
	all     []*user

	window struct{ from, to atomic.Int64 } // measured window, unix ns
	cpu    *cpuWindow                      // server CPU over the measured window
	carry  sync.WaitGroup
	ctx    context.Context
}

// Canary tenant: drivers subscribed and customers connected, reusing the
// real tenants' user names, who must hear nothing.
const (
	canaryDrivers   = 5
	canaryCustomers = 2
)

func newBench(ctx context.Context, cfg config, capacity int64) (*bench, error) {
	eps, err := wsURLs(cfg.URL)
	if err != nil {
		return nil, err
	}
	run := strconv.FormatInt(time.Now().UnixMilli(), 36)
	return &bench{cfg: cfg, run: run, eps: eps, orders: newOrderTable(capacity), st: newStats(), steps: &stepSet{}, ctx: ctx,
		cpu: &cpuWindow{pid: cfg.PID}}, nil
}

func (b *bench) tenantName(i int) string {
	if i < 0 {
		return "b" + b.run + "-canary"
	}
	return "b" + b.run + "-t" + itoa(i)
}

// connectAll opens every socket and subscribes every driver.
func (b *bench) connectAll(ctx context.Context) error {
	type spec struct {
		u    *user
		ep   *url.URL
		ns   string
		role string
		sub  string
		n    int // the socket's number, for its source address
	}
	var specs []spec
	add := func(t *tenantUsers, ti int, ns, role, prefix string, n int) []*user {
		us := make([]*user, n)
		for i := range us {
			us[i] = &user{b: b, tenant: ti, idx: i}
			specs = append(specs, spec{us[i], b.eps[i%len(b.eps)], ns, role, prefix + itoa(i), len(specs)})
		}
		return us
	}
	for ti := range b.cfg.Tenants {
		t := &tenantUsers{name: b.tenantName(ti)}
		t.vendors = add(t, ti, "/vendors", "vendor", "v", b.cfg.Vendors)
		t.drivers = add(t, ti, "/drivers", "driver", "d", b.cfg.Drivers)
		t.customers = add(t, ti, "/customers", "customer", "c", b.cfg.Customers)
		b.tenants = append(b.tenants, t)
	}
	b.canary = &tenantUsers{name: b.tenantName(-1)}
	b.canary.drivers = add(b.canary, -1, "/drivers", "driver", "d", canaryDrivers)
	b.canary.customers = add(b.canary, -1, "/customers", "customer", "c", canaryCustomers)

	jobs := make(chan spec)
	errs := make(chan error, len(specs))
	var wg sync.WaitGroup
	for range min(64, len(specs)) {
		wg.Go(func() {
			for s := range jobs {
				tok, err := signToken(b.cfg.Secret, s.u.tenantNameOf(b), s.role, s.sub)
				if err != nil {
					errs <- err
					continue
				}
				dc := dialConfig{u: s.ep, local: sourceAddr(s.n, b.cfg.Sources), bufSize: 256 << 10, ns: s.ns, token: tok, timeout: b.cfg.Timeout}
				c, err := dialConn(ctx, dc, s.u.idx, s.u.handler(s.ns))
				if err != nil {
					errs <- fmt.Errorf("%s %s/%s: %w", s.ns, s.u.tenantNameOf(b), s.sub, err)
					continue
				}
				s.u.c = c
			}
		})
	}
	for _, s := range specs {
		jobs <- s
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for _, s := range specs {
		if s.u.c != nil {
			b.all = append(b.all, s.u)
		}
	}
	if err := <-errs; err != nil {
		return fmt.Errorf("connect (%d of %d failed, first): %w", len(specs)-len(b.all), len(specs), err)
	}
	return b.subscribe(ctx)
}

func (u *user) tenantNameOf(b *bench) string { return b.tenantName(u.tenant) }

// subscribe sends pickups:subscribe {} from every driver and waits for the
// acks. The canary's lists must be empty.
func (b *bench) subscribe(ctx context.Context) error {
	var drivers []*user
	for _, t := range append(append([]*tenantUsers(nil), b.tenants...), b.canary) {
		drivers = append(drivers, t.drivers...)
	}
	var left atomic.Int64
	left.Store(int64(len(drivers)))
	done := make(chan struct{})
	var failed atomic.Value
	for _, d := range drivers {
		d.c.emit("pickups:subscribe", []byte("{}"), func(data []byte, _ time.Time) {
			if ok, code := ackResult(data); !ok {
				failed.CompareAndSwap(nil, code)
			} else if d.tenant < 0 {
				if v, _ := fieldValue(data, "pickups"); v != nil && string(v) != "[" {
					b.st.crossTenant.Add(1)
				}
			}
			if left.Add(-1) == 0 {
				close(done)
			}
		})
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(b.cfg.Timeout + time.Duration(len(drivers))*time.Millisecond):
		return fmt.Errorf("pickups:subscribe: %d of %d acks missing", left.Load(), len(drivers))
	}
	if code := failed.Load(); code != nil {
		return fmt.Errorf("pickups:subscribe refused: %s", code)
	}
	return nil
}

// closeAll ends every socket and waits for the readers; afterwards the
// users' seq checkers may be read.
func (b *bench) closeAll() {
	for _, u := range b.all {
		u.c.close()
	}
	for _, u := range b.all {
		<-u.c.done
	}
}

// sendOrder emits order:create for order i from its tenant's vendor and,
// on the ack, has the order's customer watch it.
func (b *bench) sendOrder(i int64, o *orderState) {
	t := b.tenants[o.tenant]
	j := int(i) / len(b.tenants)
	vendor := t.vendors[j%len(t.vendors)]
	customer := t.customers[j%len(t.customers)]
	payload := make([]byte, 0, 256)
	payload = append(payload, `{"store":"bench-`...)
	payload = append(payload, b.run...)
	payload = append(payload, '-')
	payload = strconv.AppendInt(payload, i, 10)
	payload = append(payload, `","customerId":"c`...)
	payload = strconv.AppendInt(payload, int64(customer.idx), 10)
	payload = append(payload, `","pickup":{"address":"1 Bench Street","lat":52.37,"lng":4.89},"dropoff":{"address":"2 Load Lane","lat":52.36,"lng":4.9},"idempotencyKey":"`...)
	payload = append(payload, b.run...)
	payload = append(payload, '-')
	payload = strconv.AppendInt(payload, i, 10)
	payload = append(payload, `"}`...)
	b.st.sent.Add(1)
	vendor.c.emit("order:create", payload, func(data []byte, now time.Time) {
		ok, code := ackResult(data)
		if !ok {
			o.failed.Store(true)
			b.st.fail("order:create " + code)
			return
		}
		id, found := fieldValue(data, "id")
		if !found {
			o.failed.Store(true)
			b.st.fail("bad_ack")
			return
		}
		b.orders.setID(i, string(id))
		o.created.Store(true)
		b.st.acked.Add(1)
		if b.inWindow(now) {
			b.st.ackedInWindow.Add(1)
		}
		b.steps.created(o.step, now)
		customer.c.emit("order:watch", orderRef(id), b.okAck)
	})
}

func (b *bench) inWindow(now time.Time) bool {
	n := now.UnixNano()
	return n >= b.window.from.Load() && n < b.window.to.Load()
}

// okAck counts a non-ok ack as an error.
func (b *bench) okAck(data []byte, _ time.Time) {
	if ok, code := ackResult(data); !ok {
		b.st.fail(code)
	}
}

func orderRef(id []byte) []byte {
	p := make([]byte, 0, len(id)+14)
	p = append(p, `{"orderId":"`...)
	p = append(p, id...)
	return append(p, `"}`...)
}
