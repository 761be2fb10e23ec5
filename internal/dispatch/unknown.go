package dispatch

import (
	"strings"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// unknownEventLabel is the observer's event name for every unknown event:
// the names are the client's, and one label each would let a client grow
// the metrics without bound.
const unknownEventLabel = "(unknown)"

// maxEchoedEventName bounds how much of an unknown event's name is echoed
// in the reply and the log.
const maxEchoedEventName = 64

// unknownEvent answers events ns has no handler for: a misspelt event, or
// one sent on the wrong namespace. With an ack the client gets
// unknown_event instead of waiting forever; without one it is dropped.
// Both are counted, and logged at debug only: a client can send them as
// fast as it likes, within its event budget.
func (t *Handlers) unknownEvent(ns string) transport.UnknownHandler {
	return func(s *transport.Socket, event string, ack transport.Ack) {
		t.cfg.Observer.EventIn(ns, unknownEventLabel, orders.CodeUnknownEvent)
		name := echoable(event)
		if ce := t.log.Check(zap.DebugLevel, "unknown event"); ce != nil {
			ce.Write(zap.String("ns", ns), zap.String("sid", s.ID()), zap.String("event", name), zap.Bool("ack", ack != nil))
		}
		if ack == nil {
			return
		}
		// Unknown events cost an authenticated socket its budget like
		// any other, so replies cannot be had faster than answers.
		if sess := sessionOf(s); sess != nil && !t.allow(sess) {
			fail(ack, t.log, orders.Errorf(orders.CodeRateLimited, "too many events; slow down"))
			return
		}
		fail(ack, t.log, orders.Errorf(orders.CodeUnknownEvent, "unknown event %q on %s", name, ns))
	}
}

// echoable cuts a client's event name to maxEchoedEventName bytes of
// valid UTF-8.
func echoable(event string) string {
	if len(event) > maxEchoedEventName {
		event = event[:maxEchoedEventName]
	}
	return strings.ToValidUTF8(event, "\uFFFD")
}
