//go:build linux

package hostile

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// setup is the state a hostile item is sent from.
type setup int

const (
	// setupMain: a WebSocket session joined to / only.
	setupMain setup = iota
	// setupVendors, setupDrivers, setupCustomers: joined to / and to the
	// namespace with a valid token of the attacker's own tenant.
	setupVendors
	setupDrivers
	setupCustomers
	// setupPolling: a fresh long-polling session; frames are POST bodies.
	setupPolling
)

func (s setup) ns() string {
	switch s {
	case setupVendors:
		return "/vendors"
	case setupDrivers:
		return "/drivers"
	case setupCustomers:
		return "/customers"
	}
	return "/"
}

// expect is what the server must do with an item; everything else is
// only recorded.
type expect int

const (
	expAny      expect = iota // anything but a crash or a hang
	expClose                  // a protocol violation: the session must end
	expOpen                   // harmless: the session must stay
	expAckFail                // an invalid_argument ack for ackID, session kept
	expAck                    // some ack for ackID that is not "internal", session kept
	expRefused                // the CONNECT to ns is never accepted
	expTooLarge               // polling: the POST is answered 413
)

var expectNames = map[expect]string{
	expAny: "any", expClose: "close", expOpen: "open", expAckFail: "ack invalid_argument",
	expAck: "ack", expRefused: "refused", expTooLarge: "413",
}

// frame is one WebSocket message, or one polling POST body.
type frame struct {
	data   []byte
	binary bool
}

// item is one hostile input and the state it is sent from.
type item struct {
	cat    string
	setup  setup
	frames []frame
	expect expect
	ns     string // of the ack or CONNECT the expectation is about
	ackID  uint64
	// keeps: the item leaves the session's state as it was, so the next
	// item with the same setup may reuse it.
	keeps bool
}

// category is one row of the sweep: how many frames it sends in all and
// how one item of it is made.
type category struct {
	name   string
	frames int
	gen    func(g *gen) item
}

// gen makes items deterministically from its seed.
type gen struct {
	r       *rand.Rand
	tok     tokens
	nextAck uint64
	turns   map[string]int
}

// turn counts the calls for key: for categories that cycle through
// their variants rather than draw them (too few items to leave it to
// chance).
func (g *gen) turn(key string) int {
	n := g.turns[key]
	g.turns[key]++
	return n
}

// ackID returns a fresh ack id for an item whose answer is checked.
// Probe ids live far above them (probeBase).
func (g *gen) ackID() uint64 {
	g.nextAck++
	return g.nextAck
}

// probeBase is where a session's probe ack ids start: above every id a
// hostile item asks an answer for, below 2^53.
const probeBase = 1 << 40

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return b
}

// letters returns n printable ASCII letters.
func (g *gen) letters(n int) string {
	var sb strings.Builder
	sb.Grow(n)
	for range n {
		sb.WriteByte(byte('a' + g.r.IntN(26)))
	}
	return sb.String()
}

// text is a one-frame text item.
func text(cat string, s setup, e expect, data string) item {
	return item{cat: cat, setup: s, expect: e, frames: []frame{{data: []byte(data)}}}
}

// nsPrefix is how a namespace is written after the packet type.
func nsPrefix(ns string) string {
	if ns == "/" || ns == "" {
		return ""
	}
	return ns + ","
}

// event writes `42<ns,><id>["name",arg]` (arg left out when empty).
func event(ns string, id uint64, name, arg string) string {
	var sb strings.Builder
	sb.WriteString("42")
	sb.WriteString(nsPrefix(ns))
	if id != 0 {
		sb.WriteString(strconv.FormatUint(id, 10))
	}
	sb.WriteString(`[` + strconv.Quote(name))
	if arg != "" {
		sb.WriteString("," + arg)
	}
	sb.WriteString("]")
	return sb.String()
}

// build makes the sweep's items: each category until its frame count is
// reached (the last item cut to fit), then all shuffled together.
func build(seed uint64, tok tokens, cats []category) ([]item, map[string]int) {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tok: tok, turns: map[string]int{}}
	var items []item
	counts := map[string]int{}
	for _, c := range cats {
		for counts[c.name] < c.frames {
			it := c.gen(g)
			if it.cat != c.name {
				panic(fmt.Sprintf("category %s made an item of %s", c.name, it.cat))
			}
			if left := c.frames - counts[c.name]; len(it.frames) > left {
				it.frames = it.frames[:left]
			}
			counts[c.name] += len(it.frames)
			items = append(items, it)
		}
	}
	g.r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	return items, counts
}
