package hub

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/orders"
)

type emitted struct {
	ns, event string
	rooms     []string
	payload   json.RawMessage
}

// recorder is a fake Emitter that keeps what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	got  []emitted
	fail error
}

func (r *recorder) Emit(ns string, rooms []string, event string, payload json.RawMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, emitted{ns, event, rooms, payload})
	return r.fail
}

func (r *recorder) summary() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.got {
		s := e.ns + " " + e.event + " ->"
		for _, room := range e.rooms {
			s += " " + room
		}
		out = append(out, s)
	}
	return out
}

func TestRouting(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	base := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", CustomerID: "c1", Zone: "north"}
	with := func(s orders.Status, driver string) orders.Order {
		o := base
		o.Status, o.DriverID = s, driver
		return o
	}
	common := []string{
		"/vendors order:status -> t:acme:vendor:v1",
		"/customers order:status -> t:acme:order:o1",
	}
	tests := []struct {
		name  string
		order orders.Order
		extra []string
	}{
		{"posted", with(orders.Ready, ""), []string{"/drivers pickup:available -> t:acme:pickups t:acme:pickups:north"}},
		{"claimed", with(orders.Assigned, "d1"), []string{"/drivers pickup:taken -> t:acme:pickups t:acme:pickups:north"}},
		{"picked up", with(orders.PickedUp, "d1"), nil},
		{"in transit", with(orders.InTransit, "d1"), nil},
		{"delivered", with(orders.Delivered, "d1"), []string{"/vendors order:delivered -> t:acme:vendor:v1"}},
		{"cancelled while ready", with(orders.Cancelled, ""), []string{"/drivers pickup:taken -> t:acme:pickups t:acme:pickups:north"}},
		{"cancelled after claim", with(orders.Cancelled, "d1"), []string{"/drivers order:status -> t:acme:driver:d1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			h := New(rec, zaptest.NewLogger(t))
			ev := orders.Event{ID: "e1", OrderID: "o1", Status: tt.order.Status, DriverID: tt.order.DriverID, At: at}
			require.NoError(t, h.OrderChanged(context.Background(), tt.order, ev))
			assert.Equal(t, append(append([]string{}, common...), tt.extra...), rec.summary())
			for _, e := range rec.got {
				assert.Contains(t, string(e.payload), `"eventId":"e1"`)
			}
		})
	}
}

func TestPayloads(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	rec := &recorder{}
	h := New(rec, zaptest.NewLogger(t))
	o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", Status: orders.Delivered, DriverID: "d1"}
	require.NoError(t, h.OrderChanged(context.Background(), o, orders.Event{ID: "e9", Status: orders.Delivered, DriverID: "d1", At: at}))
	assert.JSONEq(t, `{"eventId":"e9","orderId":"o1","status":"delivered","driverId":"d1","at":"2026-11-28T12:00:00Z"}`, string(rec.got[0].payload))
	assert.JSONEq(t, `{"eventId":"e9","orderId":"o1","driverId":"d1","at":"2026-11-28T12:00:00Z"}`, string(rec.got[2].payload))

	rec.got = nil
	heading := 90.0
	require.NoError(t, h.DriverLocation(context.Background(), "acme", []string{"o1", "o2"}, Location{Lat: 1.5, Lng: 2.5, Heading: &heading}, at))
	require.Len(t, rec.got, 2)
	assert.Equal(t, []string{"t:acme:order:o2"}, rec.got[1].rooms)
	assert.JSONEq(t, `{"orderId":"o1","lat":1.5,"lng":2.5,"heading":90,"at":"2026-11-28T12:00:00Z"}`, string(rec.got[0].payload))
}

func TestEmitFailureIsReported(t *testing.T) {
	rec := &recorder{fail: errors.New("boom")}
	h := New(rec, zaptest.NewLogger(t))
	err := h.OrderChanged(context.Background(), orders.Order{ID: "o1", Tenant: "acme", Status: orders.PickedUp}, orders.Event{Status: orders.PickedUp})
	require.Error(t, err)
	assert.Len(t, rec.got, 2, "one failing room does not stop the others")
}
