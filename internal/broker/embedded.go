package broker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// startEmbedded runs a NATS server with JetStream inside this process.
// Acknowledged writes are fsynced before the ack (SyncAlways): with the
// default background sync an acknowledged event could be lost in a crash.
func startEmbedded(cfg Config, log *zap.Logger) (*server.Server, error) {
	dir := filepath.Join(cfg.DataDir, "nats")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create JetStream dir: %w", err)
	}
	opts := &server.Options{
		ServerName: "dispatchd-embedded",
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: true,
		// The process owns signals; an embedded server must not exit it.
		NoSigs:     true,
		DontListen: cfg.ListenAddr == "",
		NoLog:      false,
	}
	if cfg.ListenAddr != "" {
		host, port, err := net.SplitHostPort(cfg.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("nats listen address %q: %w", cfg.ListenAddr, err)
		}
		opts.Host = host
		if opts.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("nats listen port %q: %w", port, err)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.SetLoggerV2(newZapLogger(log.Named("nats")), false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats: not ready within 10s")
	}
	return ns, nil
}
