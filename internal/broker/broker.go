package broker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// Broker is a connection to NATS with the durable event stream ready.
type Broker struct {
	cfg    Config
	log    *zap.Logger
	server *server.Server // nil when external
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	closed chan struct{} // closed by the connection's ClosedHandler
	// noMultiFilter is set once the server rejected a consumer with
	// several filter subjects (nats-server before 2.10).
	noMultiFilter atomic.Bool
	// atomicBatches: the server stores a batch of messages with one
	// fsync (nats-server 2.12 and later; see publishAtomic).
	atomicBatches bool
}

// Open starts the embedded server or connects to cfg.URL, then creates or
// updates the durable stream (an existing one is moved to the current
// subject list; records it already holds stay).
func Open(ctx context.Context, cfg Config, log *zap.Logger) (*Broker, error) {
	cfg = cfg.withDefaults()
	b := &Broker{cfg: cfg, log: log, closed: make(chan struct{})}
	opts := []nats.Option{
		nats.Name("dispatchd"),
		// Keep reconnecting for ever: a broker restart must not need ours.
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", zap.Error(err))
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("nats reconnected") }),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	}
	url := cfg.URL
	if url == "" {
		ns, err := startEmbedded(cfg, log)
		if err != nil {
			return nil, err
		}
		b.server = ns
		opts = append(opts, nats.InProcessServer(ns))
		url = ns.ClientURL()
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		// The URL may carry credentials: keep it out of the error.
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	b.nc = nc
	b.atomicBatches = versionAtLeast(nc.ConnectedServerVersion(), 2, 12)
	if b.js, err = jetstream.New(nc); err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	// Only feed records: best-effort messages share the prefix
	// (LocationSubject) and must not be stored.
	if b.stream, err = b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       cfg.Stream,
		Subjects:   []string{b.EventSubject(">")},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     cfg.Retention,
		Replicas:   cfg.Replicas,
		Duplicates: cfg.DuplicateWindow,
		// Only asked of servers that know it: an older one would
		// store the stream without it, and the field would then
		// differ on every later update.
		AllowAtomicPublish: b.atomicBatches,
	}); err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("create stream %s: %w", cfg.Stream, err)
	}
	return b, nil
}

// Embedded reports whether the broker runs in this process.
func (b *Broker) Embedded() bool { return b.server != nil }

// Conn returns the NATS connection (core NATS: best-effort messages).
func (b *Broker) Conn() *nats.Conn { return b.nc }

// Publish stores one record: PublishBatch of one. msgID makes a retried
// publish a no-op within the duplicate window; duplicate reports that it
// was one.
func (b *Broker) Publish(ctx context.Context, subject, msgID string, data []byte) (seq uint64, duplicate bool, err error) {
	r := b.PublishBatch(ctx, []delivery.LogMessage{{Subject: subject, ID: msgID, Data: data}})[0]
	return r.Pos, r.Duplicate, r.Err
}

// Ready checks that JetStream answers and the stream is writable.
func (b *Broker) Ready(ctx context.Context) error {
	if !b.nc.IsConnected() {
		return errors.New("nats: not connected")
	}
	if _, err := b.stream.Info(ctx); err != nil {
		return fmt.Errorf("stream %s: %w", b.cfg.Stream, err)
	}
	return nil
}

// Close drains the connection (pending publishes and deliveries finish,
// bounded by ctx) and stops the embedded server.
func (b *Broker) Close(ctx context.Context) {
	if b.nc != nil {
		if err := b.nc.Drain(); err != nil {
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-ctx.Done():
			b.nc.Close()
		}
	}
	b.shutdownServer()
}

func (b *Broker) shutdownServer() {
	if b.server != nil {
		b.server.Shutdown()
		b.server.WaitForShutdown()
	}
}

// PublishBestEffort sends data on core NATS: no storage, no retry; for
// events that are stale a second later (driver positions).
func (b *Broker) PublishBestEffort(subject string, data []byte) error {
	return b.nc.Publish(subject, data)
}

// SubscribeBestEffort calls handle for every core NATS message on subject
// until stop is called.
func (b *Broker) SubscribeBestEffort(subject string, handle func(data []byte)) (stop func(), err error) {
	sub, err := b.nc.Subscribe(subject, func(m *nats.Msg) { handle(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}
