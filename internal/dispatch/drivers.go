package dispatch

import (
	"context"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

func (t *Handlers) mountDrivers(ns *transport.Namespace) {
	ns.OnConnection(func(s *transport.Socket) {
		sess := sessionOf(s)
		t.attach(s, sess)
	})
	t.on(ns, ClientPickupsSubscribe, func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		zone, err := zoneRequest(m)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		if !t.canSubscribeZone(sess, zone) {
			fail(ack, t.log, orders.Errorf(orders.CodeConflict,
				"subscribed to too many zones (at most %d); pickups:unsubscribe one first", t.cfg.MaxZones))
			return
		}
		// Subscribe before listing: an order posted in between is
		// then both listed and announced, never neither. The
		// subscription is durable: it outlives this socket.
		ctx, cancel := t.ctx()
		defer cancel()
		if err := t.queues.Subscribe(ctx, recipientOf(sess), delivery.SubZone, zone); err != nil {
			fail(ack, t.log, err)
			return
		}
		list, err := t.svc.Pickups(ctx, sess.claims, zone)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		if list == nil {
			list = []orders.Order{}
		}
		ok(ack, map[string]any{"pickups": list})
	})
	t.on(ns, ClientPickupsUnsubscribe, func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		zone, err := zoneRequest(m)
		if err != nil {
			fail(ack, t.log, err)
			return
		}
		ctx, cancel := t.ctx()
		defer cancel()
		if err := t.unsubscribeZones(ctx, sess, zone); err != nil {
			fail(ack, t.log, err)
			return
		}
		ok(ack, nil)
	})
	t.on(ns, ClientPickupClaim, t.action(orders.ActionClaim))
	t.on(ns, ClientOrderPickedUp, t.action(orders.ActionPickUp))
	t.on(ns, ClientOrderInTransit, t.action(orders.ActionInTransit))
	t.on(ns, ClientOrderDelivered, t.request(orders.ActionDeliver))
	t.on(ns, ClientOrderUnassign, t.request(orders.ActionUnassign))
	t.on(ns, ClientOrderReject, t.request(orders.ActionReject))
	t.on(ns, ClientOrderFailed, t.request(orders.ActionFail))
	t.on(ns, ClientDriverDuty, t.driverDuty)
	t.on(ns, ClientPickupDecline, t.decline)
	t.on(ns, ClientLocationUpdate, func(s *transport.Socket, sess *session, m *transport.Message, ack transport.Ack) {
		// Missing or null coordinates stay unset and are refused by
		// name, not shown at 0,0.
		loc := Location{Lat: orders.NoCoordinate(), Lng: orders.NoCoordinate()}
		if err := decode(m, &loc); err != nil {
			fail(ack, t.log, err)
			return
		}
		ctx, cancel := t.ctx()
		defer cancel()
		if err := t.svc.Location(ctx, sess.claims, loc, t.eta); err != nil {
			fail(ack, t.log, err)
			return
		}
		ok(ack, nil)
	})
}

// canSubscribeZone reports whether the driver may subscribe to zone: it
// is subscribed already, or has fewer than MaxZones open zone
// subscriptions.
func (t *Handlers) canSubscribeZone(sess *session, zone string) bool {
	open := 0
	for _, sub := range t.queues.Subscriptions(recipientOf(sess)) {
		if sub.Kind != delivery.SubZone || sub.Until != 0 {
			continue
		}
		if sub.Key == zone {
			return true
		}
		open++
	}
	return open < t.cfg.MaxZones
}

// unsubscribeZones ends the driver's subscription to zone, or with zone
// "" every one of its zone subscriptions ("every zone" included): with no
// zone, pickups:unsubscribe stops all pickups, which is what a driver
// leaving expects, while subscribe without a zone only adds "every
// zone". Ending one that is not open changes nothing. The end is stored
// like the subscription, so it holds after a reconnect and on every node.
func (t *Handlers) unsubscribeZones(ctx context.Context, sess *session, zone string) error {
	id := recipientOf(sess)
	if zone != "" {
		return t.queues.Unsubscribe(ctx, id, delivery.SubZone, zone)
	}
	for _, sub := range t.queues.Subscriptions(id) {
		if sub.Kind != delivery.SubZone || sub.Until != 0 {
			continue
		}
		if err := t.queues.Unsubscribe(ctx, id, delivery.SubZone, sub.Key); err != nil {
			return err
		}
	}
	return nil
}

// zoneRequest reads the optional { zone } of pickups:subscribe and
// pickups:unsubscribe.
func zoneRequest(m *transport.Message) (string, error) {
	var req struct {
		Zone string `json:"zone"`
	}
	if err := decodeOptional(m, &req); err != nil {
		return "", err
	}
	return req.Zone, orders.CheckZone(req.Zone)
}
