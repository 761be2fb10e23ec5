//go:build linux

package hostile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// controlOrders is the vendor's side of the control traffic: it creates
// orders for customer c1, and the customer watches each one.
//
// Goroutines: every starts one loop, owned by the stop func it returns.
type controlOrders struct {
	vendor, customer *control

	mu   sync.Mutex
	ids  []string
	errs []error
}

func newOrders(vendor, customer *control) *controlOrders {
	return &controlOrders{vendor: vendor, customer: customer}
}

// create posts one order over Socket.IO and has the customer watch it.
func (o *controlOrders) create(ctx context.Context) error {
	o.mu.Lock()
	n := len(o.ids)
	o.mu.Unlock()
	res, err := o.vendor.call(ctx, "order:create", map[string]any{
		"store":          fmt.Sprintf("Store %d", n),
		"customerId":     "c1",
		"pickup":         map[string]any{"address": "1 Pick St", "lat": 52.5, "lng": 13.4},
		"dropoff":        map[string]any{"address": "2 Drop St", "lat": 52.6, "lng": 13.5},
		"idempotencyKey": fmt.Sprintf("ctl-%d", n),
	})
	if err != nil {
		return err
	}
	var ack struct {
		Order struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	if err := json.Unmarshal(res, &ack); err != nil || ack.Order.ID == "" {
		return fmt.Errorf("order:create answered %s", res)
	}
	o.mu.Lock()
	o.ids = append(o.ids, ack.Order.ID)
	o.mu.Unlock()
	if _, err := o.customer.call(ctx, "order:watch", map[string]string{"orderId": ack.Order.ID}); err != nil {
		return fmt.Errorf("customer: %w", err)
	}
	return nil
}

// every creates an order each interval until the returned func is called.
func (o *controlOrders) every(interval time.Duration) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			if err := o.create(context.Background()); err != nil {
				o.mu.Lock()
				o.errs = append(o.errs, err)
				o.mu.Unlock()
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

func (o *controlOrders) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.ids...)
}

func (o *controlOrders) err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return errors.Join(o.errs...)
}
