package main

import (
	"net"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/buildinfo"
)

// startupFields are the start-up line's facts an operator needs first:
// which build, where the state lives and where to look. No secret: the
// store and NATS describe themselves without credentials.
func startupFields(cfg Config, addr net.Addr, b buildinfo.Info) []zap.Field {
	dataDir := cfg.DataDir
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	sc, nc := cfg.Store, cfg.NATS
	sc.DataDir, nc.DataDir = cfg.DataDir, cfg.DataDir
	return []zap.Field{
		zap.String("version", b.Version),
		zap.String("revision", b.Revision),
		zap.Bool("modified", b.Modified),
		zap.String("go_version", b.GoVersion),
		zap.String("addr", addr.String()),
		zap.String("storage", sc.Describe()),
		zap.String("nats", nc.Describe()),
		zap.String("data_dir", dataDir),
		zap.String("console", localURL(addr.String())+"/console/"),
	}
}

// localURL is the http URL of a listen address on this machine: an empty
// or wildcard host becomes 127.0.0.1.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "", "8080"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
