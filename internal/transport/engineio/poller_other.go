//go:build !linux

package engineio

import "go.uber.org/zap"

// pollState is empty where there is no poller.
type pollState struct{}

// poller is Linux-only (epoll); elsewhere every WebSocket keeps a reader
// goroutine. newPoller returns nil and the methods are never called.
type poller struct{}

func newPoller(*zap.Logger) (*poller, error) { return nil, nil }

func (p *poller) arm(*wsSocket) bool { return false }

func (p *poller) unwatch(*wsSocket) {}

func (p *poller) stop() {}
