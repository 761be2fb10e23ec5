package rfc6455

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Outcomes, as Autobahn names them.
const (
	OK            = "OK"
	NonStrict     = "NON-STRICT"
	Informational = "INFORMATIONAL"
	Unimplemented = "UNIMPLEMENTED"
	Failed        = "FAILED"
	WrongCode     = "WRONG CODE"
	Unclean       = "UNCLEAN"
	// ByDesign is a 9.* case the server refuses with 1009 because the
	// message is over its MaxPayload (1,000,000 bytes): the expected
	// behaviour here, where Autobahn expects an echo.
	ByDesign = "1009 BY DESIGN"
)

// wsCase is one Autobahn case: what it sends and what it expects.
type wsCase struct {
	id, desc string
	run      func(s *script)
	// ok is the sequence of messages, pongs and timeouts that makes the
	// case OK; nonStrict, when set, the one Autobahn also accepts.
	ok, nonStrict []event
	hasNonStrict  bool
	// fail lists the codes the server must fail the connection with (it
	// starts the closing handshake); empty means the client closes, with
	// 1000 once the expected events are in, unless run closed already.
	fail []int
	// codes are the server's acceptable close codes when the client closes
	// (nil: 1000 or the client's own code). An empty close is accepted, as
	// Autobahn does.
	codes []int
	// clean requires the server's close frame and its hang-up.
	clean bool
	// informational cases have no right answer; the verdict records what
	// happened.
	informational bool
	// overLimit marks a 9.* message over MaxPayload: the server must fail
	// it with 1009 (ByDesign).
	overLimit bool
	wait      time.Duration // for the expected events (default 2 s)
	note      string        // why the verdict is what it is
}

// echoCase expects events, then a clean close the client starts.
func echoCase(id, desc string, run func(*script), want ...event) wsCase {
	return wsCase{id: id, desc: desc, run: run, ok: want, clean: true, codes: []int{1000}}
}

// failCase expects the server to fail the connection with code, after the
// events in ok (Autobahn accepts none of them as NON-STRICT when
// nonStrictNone).
func failCase(id, desc string, code int, run func(*script), ok ...event) wsCase {
	return wsCase{id: id, desc: desc, run: run, ok: ok, fail: []int{code}}
}

func (c wsCase) orNone() wsCase { c.hasNonStrict, c.nonStrict = true, nil; return c }

// result is what one run of a case on one endpoint gave.
type result struct {
	verdict string
	detail  string
}

// outcome is what the client observed.
type outcome struct {
	events         []event // unwrapped, close frames excluded
	closeCode      int     // -1: no close frame; 0: an empty one
	closedByClient bool
	hungUp         bool  // the server closed the TCP connection
	readErr        error // the server broke the framing, or reset
}

// judge gives the case's verdict the way Autobahn does: the events must
// match an expected sequence, then the close must be started by the right
// side, be clean where required and carry an accepted code.
func (c wsCase) judge(o outcome) result {
	behavior, detail := Failed, fmt.Sprintf("got %s, want %s", describe(o.events), describe(c.ok))
	switch {
	case sameEvents(o.events, c.ok):
		behavior, detail = OK, ""
	case c.hasNonStrict && sameEvents(o.events, c.nonStrict):
		behavior, detail = NonStrict, ""
	}
	closeVerdict, closeDetail := OK, ""
	wantByClient := len(c.fail) == 0
	codes := c.fail
	if wantByClient {
		codes = c.codes
	}
	switch {
	case o.readErr != nil && !o.hungUp:
		closeVerdict, closeDetail = Failed, "bad frame from the server: "+o.readErr.Error()
	case o.closedByClient != wantByClient:
		closeVerdict, closeDetail = Failed, "the connection was closed by the wrong endpoint"
	case c.clean && (o.closeCode < 0 || !o.hungUp):
		closeVerdict, closeDetail = Unclean, fmt.Sprintf("close frame %d, server hung up %v", o.closeCode, o.hungUp)
	case o.closeCode > 0 && len(codes) > 0 && !slices.Contains(codes, o.closeCode):
		closeVerdict, closeDetail = WrongCode, fmt.Sprintf("close code %d, want %v", o.closeCode, codes)
	}
	switch {
	case c.informational:
		return result{Informational, fmt.Sprintf("events %s; close %d by client %v", describe(o.events), o.closeCode, o.closedByClient)}
	case closeVerdict != OK:
		return result{closeVerdict, closeDetail}
	case c.overLimit && behavior == OK:
		return result{ByDesign, detail}
	}
	return result{behavior, detail}
}

func sameEvents(a, b []event) bool {
	return slices.EqualFunc(a, b, func(x, y event) bool { return x.kind == y.kind && bytes.Equal(x.data, y.data) })
}

// describe shortens events for a message: long payloads as their length.
func describe(es []event) string {
	if len(es) == 0 {
		return "[]"
	}
	s := "["
	for i, e := range es {
		if i > 0 {
			s += " "
		}
		if len(e.data) > 40 {
			s += fmt.Sprintf("%s(%d bytes)", e.kind, len(e.data))
		} else {
			s += e.kind + "(" + strconv.Quote(string(e.data)) + ")"
		}
	}
	return s + "]"
}

// closeCodeOf reads a close frame's code: 0 when it has none.
func closeCodeOf(p []byte) int {
	if len(p) < 2 {
		return 0
	}
	return int(binary.BigEndian.Uint16(p))
}
