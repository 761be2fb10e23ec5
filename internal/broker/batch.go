package broker

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dispatchd/dispatchd/internal/hub"
)

var (
	_ hub.Broker = (*Broker)(nil)
	_ hub.Log    = (*Broker)(nil)
)

// PublishBatch stores msgs pipelined on the one connection: all are sent,
// then every ack is awaited, so a batch costs about one round trip instead
// of one per message. The server stores them in the order sent. A failed
// message does not stop the others from being sent: callers that need
// one message stored before another put them in separate batches.
func (b *Broker) PublishBatch(ctx context.Context, msgs []hub.LogMessage) []hub.PublishResult {
	res := make([]hub.PublishResult, len(msgs))
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		msg := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
		f, err := b.js.PublishMsgAsync(msg, jetstream.WithMsgID(m.ID), jetstream.WithExpectStream(b.cfg.Stream))
		if err != nil {
			res[i].Err = fmt.Errorf("publish %s: %w", m.Subject, err)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			res[i].Pos, res[i].Duplicate = ack.Sequence, ack.Duplicate
		case err := <-f.Err():
			res[i].Err = fmt.Errorf("publish %s: %w", msgs[i].Subject, err)
		case <-ctx.Done():
			res[i].Err = fmt.Errorf("publish %s: %w", msgs[i].Subject, ctx.Err())
		}
	}
	return res
}
