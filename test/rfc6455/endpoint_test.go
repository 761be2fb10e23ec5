package rfc6455

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// endpoint adapts a case's messages to one Engine.IO server: what a text
// or binary message becomes on the wire, and back.
type endpoint struct {
	path string
	// prefix and suffix wrap a text message; escape maps each piece of it
	// (any piece: a fragment may end inside a character).
	prefix, suffix string
	escape         func([]byte) []byte
	// binaryLead is a whole text message sent before each binary one.
	binaryLead string
	// setup readies a fresh connection for the case.
	setup func(c *client) error
	// unwrap turns the server's frames back into the case's messages;
	// frames that belong to Engine.IO or Socket.IO themselves are dropped.
	unwrap func(in []event) []event
}

var endpoints = []*endpoint{engineIO, socketIO}

// engineIO is the Engine.IO echo server: text T is the packet "4"+T,
// binary is sent as is.
var engineIO = &endpoint{
	path:   "/engine.io/",
	prefix: "4",
	escape: func(b []byte) []byte { return b },
	setup:  func(c *client) error { return expectText(c, "0{") },
	unwrap: func(in []event) []event {
		out := make([]event, 0, len(in))
		for _, e := range in {
			if e.kind == "text" {
				if !bytes.HasPrefix(e.data, []byte("4")) {
					out = append(out, event{"unexpected", e.data})
					continue
				}
				e.data = e.data[1:]
			}
			out = append(out, e)
		}
		return out
	},
}

// socketIO is the Socket.IO server on namespace "/": text T is the event
// 42["message","T"], answered by 42["message-back","T"]; binary is an
// attachment of the event.
var socketIO = &endpoint{
	path:       "/socket.io/",
	prefix:     `42["message","`,
	suffix:     `"]`,
	escape:     jsonEscape,
	binaryLead: `451-["message",{"_placeholder":true,"num":0}]`,
	setup: func(c *client) error {
		if err := expectText(c, "0{"); err != nil {
			return err
		}
		c.write(frame{op: opText, fin: true, payload: []byte("40")}.encode(), 0, false)
		return expectText(c, "40{")
	},
	unwrap: func(in []event) []event {
		out := make([]event, 0, len(in))
		attachment := false
		for _, e := range in {
			switch {
			case e.kind == "binary" && attachment:
				attachment = false
				out = append(out, e)
			case e.kind == "text" && bytes.HasPrefix(e.data, []byte(`42["auth"`)):
				// Every connection is told its CONNECT payload.
			case e.kind == "text" && string(e.data) == `451-["message-back",{"_placeholder":true,"num":0}]`:
				attachment = true
			case e.kind == "text":
				var args []string
				if !bytes.HasPrefix(e.data, []byte("42")) || json.Unmarshal(e.data[2:], &args) != nil ||
					len(args) != 2 || args[0] != "message-back" {
					out = append(out, event{"unexpected", e.data})
					continue
				}
				out = append(out, event{"text", []byte(args[1])})
			default:
				out = append(out, e)
			}
		}
		return out
	},
}

// jsonEscape escapes the bytes a JSON string cannot hold raw, byte by
// byte, so that a piece cut inside a UTF-8 character stays cut there.
func jsonEscape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c < 0x20:
			out = append(out, fmt.Sprintf(`\u%04x`, c)...)
		default:
			out = append(out, c)
		}
	}
	return out
}

// expectText waits for a text frame starting with prefix, then forgets
// every event so far: the case starts from here.
func expectText(c *client, prefix string) error {
	ok := c.wait(2*time.Second, func() bool {
		for _, e := range c.events {
			if e.kind == "text" && strings.HasPrefix(string(e.data), prefix) {
				return true
			}
		}
		return c.ended
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	found := false
	for _, e := range c.events {
		found = found || e.kind == "text" && strings.HasPrefix(string(e.data), prefix)
	}
	if !ok || !found {
		return fmt.Errorf("no %q from the server (events %q)", prefix, c.events)
	}
	c.events = c.events[:0]
	return nil
}
