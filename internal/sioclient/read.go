package sioclient

import (
	"bytes"
	"encoding/json"
	"strconv"
)

func (c *Client) read() {
	defer close(c.done)
	defer close(c.Events)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		if len(data) == 0 {
			continue
		}
		switch data[0] {
		case '2':
			_ = c.write([]byte("3"))
		case '4':
			c.packet(data[1:])
		}
	}
}

// packet handles one Socket.IO text packet; malformed ones are dropped (the
// server under test is trusted to be tested elsewhere for those).
func (c *Client) packet(b []byte) {
	if len(b) == 0 {
		return
	}
	typ := b[0]
	ns, id, b := splitHeader(b[1:])
	switch typ {
	case '0':
		var r struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal(b, &r)
		c.connectDone(ns, connectReply{sid: r.SID})
	case '4':
		ce := &ConnectError{}
		_ = json.Unmarshal(b, ce)
		c.connectDone(ns, connectReply{err: ce})
	case '1':
		c.mu.Lock()
		if k := c.kickedLocked(ns); !isClosed(k) {
			close(k)
		}
		c.mu.Unlock()
	case '2':
		c.event(ns, id, b)
	case '3':
		c.ack(id, b)
	}
}

// splitHeader takes the namespace ("/" when absent) and the ack id (nil
// when absent) off the front of a packet's body.
func splitHeader(b []byte) (ns string, id *uint64, rest []byte) {
	ns = "/"
	if len(b) > 0 && b[0] == '/' {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return string(b), nil, nil
		}
		ns, b = string(b[:i]), b[i+1:]
	}
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j > 0 {
		if n, err := strconv.ParseUint(string(b[:j]), 10, 64); err == nil {
			id = &n
		}
		b = b[j:]
	}
	return ns, id, b
}

func (c *Client) event(ns string, id *uint64, b []byte) {
	var args []json.RawMessage
	if json.Unmarshal(b, &args) != nil || len(args) == 0 {
		return
	}
	var name string
	_ = json.Unmarshal(args[0], &name)
	c.Events <- Event{Namespace: ns, Name: name, Args: args[1:], AckID: id}
}

func (c *Client) ack(id *uint64, b []byte) {
	if id == nil {
		return
	}
	var args []json.RawMessage
	_ = json.Unmarshal(b, &args)
	c.mu.Lock()
	ch := c.acks[*id]
	delete(c.acks, *id)
	c.mu.Unlock()
	if ch != nil {
		ch <- args
	}
}

func (c *Client) connectDone(ns string, r connectReply) {
	c.mu.Lock()
	ch := c.connects[ns]
	delete(c.connects, ns)
	c.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}
