package dispatch

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/dispatchd/dispatchd/internal/delivery"
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

func TestRecords(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	base := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", CustomerID: "c1", Zone: "north"}
	with := func(s orders.Status, driver string) orders.Order {
		o := base
		o.Status, o.DriverID = s, driver
		return o
	}
	common := []string{"v/v1 order:status e1", "c/c1 order:status e1"}
	respondBy := at.Add(30 * time.Second)
	tests := []struct {
		name  string
		order orders.Order
		extra []string
		from  string      // the event's FromDriverID
		role  orders.Role // the event's actor role
		by    *time.Time  // the event's RespondBy
	}{
		{"posted", with(orders.Ready, ""), []string{"p/north pickup:available " + derivedID("e1", "available")}, "", orders.RoleDriver, nil},
		{"claimed", with(orders.Assigned, "d1"), []string{"p/north pickup:taken " + derivedID("e1", "taken")}, "", orders.RoleDriver, nil},
		{"picked up", with(orders.PickedUp, "d1"), nil, "", orders.RoleDriver, nil},
		{"in transit", with(orders.InTransit, "d1"), nil, "", orders.RoleDriver, nil},
		{"delivered", with(orders.Delivered, "d1"), []string{"v/v1 order:delivered " + derivedID("e1", "delivered")}, "", orders.RoleDriver, nil},
		{"cancelled while ready", with(orders.Cancelled, ""), []string{"p/north pickup:taken " + derivedID("e1", "taken")}, "", orders.RoleDriver, nil},
		{"cancelled after claim", with(orders.Cancelled, "d1"), []string{"d/d1 order:status e1"}, "", orders.RoleDriver, nil},
		// Given back: offered again under a new eventId, and the driver
		// it was taken from hears of it.
		{"unassigned", with(orders.Ready, ""), []string{"p/north pickup:available " + derivedID("e1", "available"), "d/d1 order:status e1"}, "d1", orders.RoleDriver, nil},
		{"assigned by a dispatcher", with(orders.Assigned, "d2"), []string{"p/north pickup:taken " + derivedID("e1", "taken"), "d/d2 order:status e1"}, "", orders.RoleDispatcher, nil},
		{"assigned by the auto strategy", with(orders.Assigned, "d2"), []string{"p/north pickup:taken " + derivedID("e1", "taken"), "d/d2 order:assigned " + derivedID("e1", "assigned")}, "", orders.RoleDispatcher, &respondBy},
		{"failed", with(orders.Failed, "d1"), []string{"d/d1 order:status e1"}, "", orders.RoleDriver, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := orders.Event{ID: "e1", OrderID: "o1", Status: tt.order.Status, DriverID: tt.order.DriverID, At: at,
				FromDriverID: tt.from, Actor: orders.Actor{Role: tt.role}, RespondBy: tt.by}
			recs, err := Records(orders.Change{Order: tt.order, Event: ev})
			require.NoError(t, err)
			var got []string
			for _, r := range recs {
				got = append(got, r.Feed+"/"+r.Key+" "+string(r.Event)+" "+r.EventID)
				assert.Contains(t, string(r.Body), `"eventId":"`+r.EventID+`"`)
				assert.Equal(t, "acme", r.Tenant)
				assert.Equal(t, "north", r.Zone)
			}
			assert.Equal(t, append(append([]string{}, common...), tt.extra...), got)
			if tt.by != nil {
				var a OrderAssigned
				require.NoError(t, json.Unmarshal(recs[len(recs)-1].Body, &a))
				assert.Equal(t, OrderAssigned{EventID: derivedID("e1", "assigned"), Order: tt.order, RespondBy: respondBy}, a)
			}
		})
	}
}

func TestRecordsFailedCarriesFailureAndNoPIN(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", CustomerID: "c1", Status: orders.Failed, DriverID: "d1",
		Failure: &orders.Failure{Reason: orders.ReasonRefused, At: at}, Proof: orders.ProofPIN, PIN: "9137"}
	recs, err := Records(orders.Change{Order: o, Event: orders.Event{ID: "e1", Status: orders.Failed, DriverID: "d1", At: at}})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	for _, r := range recs {
		var st OrderStatus
		require.NoError(t, json.Unmarshal(r.Body, &st))
		assert.Equal(t, o.Failure, st.Failure, r.Feed)
	}
	o.Status, o.Failure = orders.Ready, nil
	recs, err = Records(orders.Change{Order: o, Event: orders.Event{ID: "e2", Status: orders.Ready, At: at}})
	require.NoError(t, err)
	for _, r := range recs {
		assert.NotContains(t, string(r.Body), "9137", "the PIN is for the customer's order:watch only")
	}
}

func TestRecordsWithoutZoneUseTheNoZoneFeed(t *testing.T) {
	recs, err := Records(orders.Change{Order: orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", Status: orders.Ready},
		Event: orders.Event{ID: "e1", Status: orders.Ready}})
	require.NoError(t, err)
	require.Len(t, recs, 2, "no customer: no customer record")
	assert.Equal(t, []string{"acme", "p", noZone}, []string{recs[1].Tenant, recs[1].Feed, recs[1].Key})
	assert.False(t, orders.ValidName(noZone), "the no-zone key can never be a zone")
}

func TestPayloads(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", Status: orders.Delivered, DriverID: "d1"}
	recs, err := Records(orders.Change{Order: o, Event: orders.Event{ID: "e9", Status: orders.Delivered, DriverID: "d1", At: at}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"eventId":"e9","orderId":"o1","status":"delivered","driverId":"d1","at":"2026-11-28T12:00:00Z","seq":7}`,
		string(recs[0].Payload(7)))
	assert.JSONEq(t, `{"eventId":"`+derivedID("e9", "delivered")+`","orderId":"o1","driverId":"d1","at":"2026-11-28T12:00:00Z","seq":12}`,
		string(recs[1].Payload(12)))
	assert.True(t, orders.ValidID(derivedID("e9", "delivered")), "derived ids are UUIDs too")
	assert.NotEqual(t, derivedID("e9", "delivered"), derivedID("e9", "taken"))

	rec := &recorder{}
	l := NewLocations(nil, rec, zaptest.NewLogger(t))
	heading := 90.0
	meters, eta := 1234.5, 194
	require.NoError(t, l.Show("acme", []Leg{{OrderID: "o1"}, {OrderID: "o2", DistanceMeters: &meters, ETASeconds: &eta}},
		Location{Lat: 1.5, Lng: 2.5, Heading: &heading}, at))
	require.Len(t, rec.got, 2)
	assert.Equal(t, []string{"t:acme:order:o2"}, rec.got[1].rooms)
	assert.JSONEq(t, `{"orderId":"o1","lat":1.5,"lng":2.5,"heading":90,"at":"2026-11-28T12:00:00Z"}`, string(rec.got[0].payload))
	assert.JSONEq(t, `{"orderId":"o2","lat":1.5,"lng":2.5,"heading":90,"at":"2026-11-28T12:00:00Z","distanceMeters":1234.5,"etaSeconds":194}`,
		string(rec.got[1].payload))
}

func TestEmitFailureIsReported(t *testing.T) {
	rec := &recorder{fail: errors.New("boom")}
	l := NewLocations(nil, rec, zaptest.NewLogger(t))
	err := l.Show("acme", []Leg{{OrderID: "o1"}}, Location{}, time.Now())
	require.Error(t, err)
}

func TestRecordsUnassignedNoticeGoesToTheVendorOnly(t *testing.T) {
	o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", CustomerID: "c1", Zone: "north", Status: orders.Ready}
	recs, err := Records(orders.Change{Order: o, Event: orders.Event{ID: "n1", OrderID: "o1", Status: orders.Ready},
		Unassigned: orders.ReasonNoDriver})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, FeedVendor, recs[0].Feed)
	assert.Equal(t, "v1", recs[0].Key)
	assert.Equal(t, string(EventOrderUnassigned), recs[0].Event)
	assert.Equal(t, "n1", recs[0].EventID)
	assert.JSONEq(t, `{"eventId":"n1","orderId":"o1","reason":"no_driver"}`, string(recs[0].Body))
}

// TestRecordsNearest: a nearest order is never broadcast when posted or
// given back, its rings go to each driver's own feed, a claim tells the
// rest of the ring, and the fallback is the zone's broadcast.
func TestRecordsNearest(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", CustomerID: "c1", Zone: "north", Status: orders.Ready,
		Dispatch: orders.Dispatch{Strategy: orders.StrategyNearest}}
	names := func(recs []delivery.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, r.Feed+"/"+r.Key+" "+r.Event+" "+r.EventID)
		}
		return out
	}
	ev := orders.Event{ID: "e1", OrderID: "o1", Status: orders.Ready, At: at}
	recs, err := Records(orders.Change{Order: o, Event: ev})
	require.NoError(t, err)
	assert.Equal(t, []string{"v/v1 order:status e1", "c/c1 order:status e1"}, names(recs), "posted: no broadcast")

	ev.FromDriverID = "d1"
	recs, err = Records(orders.Change{Order: o, Event: ev})
	require.NoError(t, err)
	assert.Equal(t, []string{"v/v1 order:status e1", "c/c1 order:status e1", "d/d1 order:status e1"}, names(recs),
		"given back: its rings start again, no broadcast")

	exp := at.Add(30 * time.Second)
	recs, err = Records(orders.Change{Order: o, Event: orders.Event{ID: "r1", OrderID: "o1", Status: orders.Ready, At: at},
		Offer: &orders.Offer{Round: 2, ExpiresAt: exp, Drivers: []orders.OfferedDriver{{ID: "d2", Meters: 812.6}, {ID: "d3", Meters: 1500}}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"d/d2 pickup:offer " + derivedID("r1", "offer:d2"), "d/d3 pickup:offer " + derivedID("r1", "offer:d3")}, names(recs))
	var offer PickupOffer
	require.NoError(t, json.Unmarshal(recs[0].Body, &offer))
	assert.Equal(t, PickupOffer{EventID: derivedID("r1", "offer:d2"), Order: o, ExpiresAt: exp, DistanceMeters: 813, Round: 2}, offer)

	taken := o
	taken.Status, taken.DriverID = orders.Assigned, "d2"
	recs, err = Records(orders.Change{Order: taken, Event: orders.Event{ID: "e2", OrderID: "o1", Status: orders.Assigned,
		DriverID: "d2", At: at, Taken: []string{"d3"}, Offered: true}})
	require.NoError(t, err)
	assert.Equal(t, []string{"v/v1 order:status e2", "c/c1 order:status e2", "d/d3 pickup:taken " + derivedID("e2", "taken:d3")}, names(recs),
		"the ring hears it is taken, the zone was never told of it")

	recs, err = Records(orders.Change{Order: taken, Event: orders.Event{ID: "e3", OrderID: "o1", Status: orders.Assigned,
		DriverID: "d2", At: at, Offered: true}})
	require.NoError(t, err)
	assert.Equal(t, []string{"v/v1 order:status e3", "c/c1 order:status e3"}, names(recs),
		"a ring of one: nobody else to tell, and not the zone")

	recs, err = Records(orders.Change{Order: o, Broadcast: true, Event: orders.Event{ID: "b1", OrderID: "o1", Status: orders.Ready, At: at}})
	require.NoError(t, err)
	assert.Equal(t, []string{"p/north pickup:available " + derivedID("b1", "available")}, names(recs))
}

// TestRecordsETA: order:status carries the change's etaSeconds while a
// driver drives to a stop, to every recipient, and never once the order
// ends or is given back; it survives the outbox's JSON.
func TestRecordsETA(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	eta := 420
	tests := []struct {
		status  orders.Status
		driver  string
		eta     *int
		wantETA *int
	}{
		{orders.Assigned, "d1", &eta, &eta},
		{orders.PickedUp, "d1", &eta, &eta},
		{orders.InTransit, "d1", &eta, &eta},
		{orders.InTransit, "d1", nil, nil}, // position unknown or stale
		{orders.Delivered, "d1", &eta, nil},
		{orders.Failed, "d1", &eta, nil},
		{orders.Cancelled, "d1", &eta, nil},
		{orders.Ready, "", &eta, nil},
	}
	for _, tt := range tests {
		name := string(tt.status)
		if tt.eta == nil {
			name += " without position"
		}
		t.Run(name, func(t *testing.T) {
			o := orders.Order{ID: "o1", Tenant: "acme", VendorID: "v1", CustomerID: "c1", Status: tt.status, DriverID: tt.driver}
			if tt.status == orders.Failed {
				o.Failure = &orders.Failure{Reason: orders.ReasonCustomerAbsent, At: at}
			}
			ch := orders.Change{Order: o, Event: orders.Event{ID: "e1", OrderID: "o1", Status: tt.status, DriverID: tt.driver,
				At: at, ETASeconds: tt.eta}}
			payload, err := json.Marshal(ch)
			require.NoError(t, err)
			recs, _, err := Fanout(payload)
			require.NoError(t, err)
			statuses := 0
			for _, r := range recs {
				if r.Event != string(EventOrderStatus) {
					continue
				}
				statuses++
				var st OrderStatus
				require.NoError(t, json.Unmarshal(r.Body, &st))
				assert.Equal(t, tt.wantETA, st.ETASeconds, "%s/%s", r.Feed, r.Key)
				if tt.wantETA == nil {
					assert.NotContains(t, string(r.Body), "etaSeconds")
				}
			}
			require.GreaterOrEqual(t, statuses, 2, "the vendor and the customer hear order:status")
		})
	}
}
