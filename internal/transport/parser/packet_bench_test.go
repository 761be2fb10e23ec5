package parser_test

import (
	"testing"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// orderEvent is a typical dispatch event: an order status update with a
// payload of about 200 bytes, acked, in the /vendors namespace.
const orderEvent = `2/vendors,42["order:status",{"orderId":"ord_01HZX4T9K3M8Q2","tenantId":"tn_7Q2","status":"picked_up",` +
	`"driverId":"drv_5521","eta":"2024-05-01T12:34:56Z","location":{"lat":52.520008,"lng":13.404954},"seq":1842,"items":3}]`

func BenchmarkDecode(b *testing.B) {
	in := []byte(orderEvent)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := parser.Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	p, err := parser.Decode([]byte(orderEvent))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(orderEvent)))
	for b.Loop() {
		buf = p.Append(buf[:0])
	}
}

func BenchmarkSplitArray(b *testing.B) {
	p, err := parser.Decode([]byte(orderEvent))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(p.Data)))
	for b.Loop() {
		args, err := parser.SplitArray(p.Data)
		if err != nil || len(args) != 2 {
			b.Fatal(len(args), err)
		}
	}
}

// BenchmarkDecoderBinary is a binary event with one attachment through the
// streaming decoder, including the placeholder check.
func BenchmarkDecoderBinary(b *testing.B) {
	text := []byte(`51-/drivers,["proof:photo",{"orderId":"ord_01HZX4T9K3M8Q2","image":{"_placeholder":true,"num":0}}]`)
	att := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		var d parser.Decoder
		if _, _, _, err := d.Add(text, false); err != nil {
			b.Fatal(err)
		}
		if _, _, done, err := d.Add(att, true); err != nil || !done {
			b.Fatal(done, err)
		}
	}
}
