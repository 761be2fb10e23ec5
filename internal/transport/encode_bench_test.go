package transport

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// BenchmarkEncodeDurableEvent measures the packet of one delivered durable
// event: a named event with an ack id and one pre-encoded JSON argument of
// a pickup's size, which is what every recipient of a fan-out costs here.
func BenchmarkEncodeDurableEvent(b *testing.B) {
	body := json.RawMessage(`{"eventId":"0193c5b1-7a3e-7cc0-9e0f-1f2a3b4c5d6e","order":{"id":"0193c5b1-7a3e-7cc0-9e0f-000000000001",` +
		`"store":"Pizza Nord","zone":"north","pickup":{"address":"1 Main St","lat":52.520008,"lng":13.404954},` +
		`"dropoff":{"address":"9 Side St","lat":52.51,"lng":13.41},"status":"ready","version":1,` +
		`"items":[{"name":"margherita","qty":2}]},"distanceMeters":` + strings.Repeat("1", 4) + `,"seq":123456}`)
	pkt := parser.Packet{Type: parser.Event, Namespace: "/drivers", ID: 123456, HasID: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(pkt, "pickup:available", []any{body}, false); err != nil {
			b.Fatal(err)
		}
	}
}
