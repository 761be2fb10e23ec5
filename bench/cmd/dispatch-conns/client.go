package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// client is one Socket.IO connection. Its serve loop is the only reader;
// the loop writes pongs, and close may run concurrently (gorilla allows one
// concurrent Close).
type client struct {
	ws *websocket.Conn
}

// dialClient connects client i from source address 127.0.0.(1 + i mod
// sources), so more clients fit than one address has ephemeral ports.
func dialClient(ctx context.Context, cfg config, url string, i int) (*client, error) {
	src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%cfg.sources))}
	d := websocket.Dialer{
		HandshakeTimeout: cfg.timeout,
		// The tool holds many idle clients: keep its own memory small.
		ReadBufferSize:  512,
		WriteBufferSize: 512,
		NetDialContext:  (&net.Dialer{LocalAddr: src, Timeout: cfg.timeout}).DialContext,
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	ws, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if err := join(ws, cfg); err != nil {
		_ = ws.Close()
		return nil, err
	}
	return &client{ws: ws}, nil
}

// join reads the Engine.IO open packet, sends CONNECT for the namespace
// and waits for its answer.
func join(ws *websocket.Conn, cfg config) error {
	_ = ws.SetReadDeadline(time.Now().Add(cfg.timeout))
	defer func() { _ = ws.SetReadDeadline(time.Time{}) }()
	_, open, err := ws.ReadMessage()
	if err != nil {
		return fmt.Errorf("read open packet: %w", err)
	}
	if len(open) == 0 || open[0] != '0' {
		return fmt.Errorf("first packet %q is not open", open)
	}
	connect := "40"
	if cfg.nsp != "/" {
		connect += cfg.nsp + ","
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(connect)); err != nil {
		return fmt.Errorf("send connect: %w", err)
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("read connect reply: %w", err)
		}
		switch {
		case bytes.Equal(msg, []byte("2")):
			if err := ws.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
				return err
			}
		case bytes.HasPrefix(msg, []byte(connect+"{")):
			return nil
		case bytes.HasPrefix(msg, []byte("44")):
			return fmt.Errorf("connect refused: %s", msg)
		}
	}
}

// serve answers heartbeats until the connection ends.
func (c *client) serve(pongs *atomic.Int64) {
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if len(msg) == 1 && msg[0] == '2' {
			if c.ws.WriteMessage(websocket.TextMessage, []byte("3")) != nil {
				return
			}
			pongs.Add(1)
		}
	}
}

func (c *client) close() { _ = c.ws.Close() }
