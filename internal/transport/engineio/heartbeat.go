package engineio

// The heartbeat: the server pings every PingInterval and ends a session
// whose pong is not in PingTimeout later. Deadlines live in the server's
// wheel (netpoll.Wheel), one per session.

// onTimer is called by the heartbeat wheel for the tick the session was due
// on.
func (c *Conn) onTimer(tick int64) {
	w := c.srv.wheel
	c.mu.Lock()
	if c.phase.closed() {
		c.mu.Unlock()
		c.srv.forget(c) // tombstone expired
		return
	}
	if c.awaitingPong {
		c.mu.Unlock()
		c.close(ReasonPingTimeout, false)
		return
	}
	// The pong is due pingTimeout after the tick the ping was due on, so
	// the wheel goroutine's usual lateness does not lengthen it; after a
	// stall of more than a tick the client gets its full pingTimeout from
	// now instead.
	sent := max(tick, w.Now()-1)
	c.awaitingPong = true
	c.pongDue = sent + w.Ticks(c.srv.cfg.PingTimeout)
	c.mu.Unlock()
	w.ScheduleTick(c, c.pongDue)
	_ = c.SendFrames(pingFrame)
}

// pongOverdueLocked reports whether the session missed its pong deadline,
// whether or not the wheel has fired it yet: a request arriving after the
// deadline must find the session gone, as the client would expect.
func (c *Conn) pongOverdueLocked() bool {
	return c.awaitingPong && c.srv.wheel.Now() >= c.pongDue
}

func (c *Conn) onPong() {
	c.mu.Lock()
	was := c.awaitingPong
	c.awaitingPong = false
	closed := c.phase.closed()
	c.mu.Unlock()
	if was && !closed {
		c.srv.wheel.Schedule(c, c.srv.cfg.PingInterval)
	}
}
