//go:build linux

package hostile

import (
	"strconv"
	"strings"
)

// sweep is the table of hostile input: 10,000 frames in all.

var sweep = []category{
	{"random-bytes", 1300, genRandom},
	{"truncated", 1000, genTruncated},
	{"eio-unknown-type", 500, genEIOType},
	{"sio-unknown-type", 500, genSIOType},
	{"bad-namespace", 500, genNamespace},
	{"ack-ids", 500, genAckIDs},
	{"deep-json", 200, genDeep},
	{"placeholders", 600, genPlaceholders},
	{"proto-pollution", 700, genProto},
	{"reserved-names", 300, genReserved},
	{"bad-tokens", 500, genBadTokens},
	{"wrong-args", 2000, genWrongArgs},
	{"oversized", 5, genOversized},
	{"poll-garbage", 895, genPollGarbage},
	{"poll-rs-junk", 500, genPollJunk},
}

// maxPayload is the server's default limit on one frame or POST body.
const maxPayload = 1_000_000

func genRandom(g *gen) item {
	b := g.bytes(1 + g.r.IntN(512))
	switch g.r.IntN(4) {
	case 0:
		b[0] = '4' // into the Socket.IO parser
	case 1:
		b = append([]byte("42"), b...)
	}
	return item{cat: "random-bytes", setup: setupMain, frames: []frame{{data: b, binary: g.r.IntN(2) == 0}}}
}

// validPackets are cut short by genTruncated.

var validPackets = []string{
	`42["ping"]`,
	`4212["ping",{"a":[1,2,{"b":"c"}]}]`,
	`40/drivers,{"token":"eyJhbGciOiJIUzI1NiJ9.e30.x"}`,
	`42/drivers,7["pickups:subscribe",{"zone":"north"}]`,
	`42/drivers,8["location:update",{"lat":52.5,"lng":13.4,"heading":90}]`,
	`43/drivers,5[{"ok":true}]`,
	`451-["ping",{"_placeholder":true,"num":0}]`,
	`461-/drivers,3[{"_placeholder":true,"num":0}]`,
	`41/drivers,`,
	`44/drivers,{"message":"x"}`,
	`42/drivers,9["pickup:claim",{"orderId":"0190a8c4-5d1e-7c3a-9b2f-1234567890ab"}]`,
}

func genTruncated(g *gen) item {
	p := g.pick(validPackets)
	s := setupMain
	if strings.Contains(p, "/drivers") && g.r.IntN(2) == 0 {
		s = setupDrivers
	}
	return text("truncated", s, expAny, p[:g.r.IntN(len(p))])
}

func genEIOType(g *gen) item {
	const cat = "eio-unknown-type"
	switch g.r.IntN(6) {
	case 0:
		return text(cat, setupMain, expClose, "")
	case 1: // types a client must not send here: open, ping, upgrade, noop
		return text(cat, setupMain, expAny, g.pick([]string{"0", "0{}", "2", "2probe", "5", "6", "1x"}))
	default:
		typ := g.pick([]string{"7", "8", "9", "a", "b", "x", "-", " ", "\x00", "\xff", "{", "[", "€"})
		return text(cat, setupMain, expClose, typ+g.letters(g.r.IntN(40)))
	}
}

func genSIOType(g *gen) item {
	const cat = "sio-unknown-type"
	if g.r.IntN(8) == 0 {
		return text(cat, setupMain, expClose, "4")
	}
	typ := g.pick([]string{"7", "8", "9", "a", "z", "-", " ", "\x00", "{", "[", "\"", "/"})
	body := g.pick([]string{"", `["ping"]`, `/drivers,["ping"]`, `12["ping"]`, `{}`, g.letters(20)})
	return text(cat, setupMain, expClose, "4"+typ+body)
}

func genNamespace(g *gen) item {
	const cat = "bad-namespace"
	refused := func(ns string) item {
		it := text(cat, setupMain, expRefused, "40"+ns+",")
		it.ns = ns
		return it
	}
	switch g.r.IntN(12) {
	case 0:
		return refused("/admin")
	case 1:
		return refused("/" + strings.Repeat("n", 10_000))
	case 2:
		return refused("/vendors/../drivers")
	case 3:
		return refused("/drivers/")
	case 4:
		return text(cat, setupMain, expClose, `42/nope,["ping"]`)
	case 5:
		return text(cat, setupMain, expClose, `41/drivers,`)
	case 6:
		return text(cat, setupMain, expClose, `43/nope,1[]`)
	case 7:
		return text(cat, setupMain, expClose, `44/drivers,{"message":"spoofed"}`)
	case 8:
		return text(cat, setupMain, expClose, `40drivers,{}`)
	case 9: // / is already joined
		return text(cat, setupMain, expClose, "40")
	case 10:
		return text(cat, setupMain, expAny, "40/"+g.pick([]string{"", "/", ",", "\x00", "drivers\x00", "DRIVERS", "%2Fdrivers", "drivers\u202e"})+",")
	default:
		return text(cat, setupMain, expAny, "40/"+g.letters(1+g.r.IntN(64)))
	}
}

func genAckIDs(g *gen) item {
	const cat = "ack-ids"
	switch g.r.IntN(10) {
	case 0:
		return text(cat, setupMain, expAny, `4299999999999999999999["ping"]`)
	case 1:
		return text(cat, setupMain, expAny, `42`+strings.Repeat("9", 5_000)+`["ping"]`)
	case 2:
		return text(cat, setupMain, expAny, `429007199254740993["ping"]`)
	case 3:
		return text(cat, setupMain, expAny, `4318446744073709551616[]`)
	case 4:
		return text(cat, setupMain, expClose, g.pick([]string{`42-1["ping"]`, `43-5[]`, `42 1["ping"]`, `421e5["ping"]`, `430x10[]`, `42+7["ping"]`}))
	case 5: // an ack nobody asked for: ignored
		it := text(cat, setupMain, expOpen, "43"+strconv.FormatUint(g.r.Uint64N(1e9), 10)+"[]")
		return it
	case 6:
		return text(cat, setupDrivers, expAny, `42/drivers,99999999999999999999["pickups:subscribe"]`)
	case 7:
		return text(cat, setupDrivers, expAny, `43/drivers,`+strings.Repeat("1", 30)+`[{"ok":true}]`)
	case 8:
		return text(cat, setupMain, expAny, `420000000000000000000001["ping"]`)
	default: // an ack with no id at all
		return text(cat, setupMain, expClose, `43["ping"]`)
	}
}

func nested(open, close string, depth int, core string) string {
	return strings.Repeat(open, depth) + core + strings.Repeat(close, depth)
}

func genDeep(g *gen) item {
	const cat = "deep-json"
	depth := g.pick([]string{"10000", "10000", "9999", "100000"})
	d, _ := strconv.Atoi(depth)
	switch g.r.IntN(6) {
	case 0:
		return text(cat, setupMain, expAny, `42["ping",`+nested("[", "]", d, "")+`]`)
	case 1:
		return text(cat, setupMain, expAny, `42["ping",`+nested(`{"a":`, "}", d, "1")+`]`)
	case 2:
		return text(cat, setupMain, expClose, `42["ping",`+strings.Repeat("[", d)+`]`)
	case 3:
		id := g.ackID()
		it := text(cat, setupDrivers, expAny, event("/drivers", id, "pickups:subscribe", `{"zone":`+nested("[", "]", d, `"n"`)+`}`))
		return it
	case 4:
		it := text(cat, setupMain, expRefused, `40/drivers,{"token":`+nested("[", "]", d, `"t"`)+`}`)
		it.ns = "/drivers"
		return it
	default:
		return text(cat, setupDrivers, expAny, `43/drivers,5[`+nested(`{"x":[`, "]}", d/2, "0")+`]`)
	}
}

func placeholder(num string) string { return `{"_placeholder":true,"num":` + num + `}` }

// withAttachments is a binary packet's text part followed by n binary

// frames.

func withAttachments(g *gen, cat string, s setup, e expect, head string, n int) item {
	it := text(cat, s, e, head)
	for range n {
		it.frames = append(it.frames, frame{data: g.bytes(1 + g.r.IntN(64)), binary: true})
	}
	return it
}

func genPlaceholders(g *gen) item {
	const cat = "placeholders"
	switch g.r.IntN(12) {
	case 0:
		num := g.pick([]string{"1e20", "99999999999", "-1", "1.5", `"0"`, `"__proto__"`, "null", "1e309", placeholder("0")})
		return withAttachments(g, cat, setupMain, expAny, `451-["ping",`+placeholder(num)+`]`, 1)
	case 1:
		return text(cat, setupMain, expClose, g.pick([]string{`451000000-["ping"]`, `451e6-["ping"]`, `4511-["ping"]`, `45-1-["ping"]`, `4599999999999999999999-["ping"]`}))
	case 2: // ten attachments, every one referenced: a valid binary ping
		ps := make([]string, 10)
		for i := range ps {
			ps[i] = placeholder(strconv.Itoa(i))
		}
		return withAttachments(g, cat, setupMain, expAny, `4510-["ping",`+strings.Join(ps, ",")+`]`, 10)
	case 3: // thousands of references to one attachment
		return withAttachments(g, cat, setupMain, expAny, `451-["ping",`+strings.TrimSuffix(strings.Repeat(placeholder("0")+",", 5_000), ",")+`]`, 1)
	case 4: // thousands of placeholders past the attachments
		ps := make([]string, 3_000)
		for i := range ps {
			ps[i] = placeholder(strconv.FormatUint(g.r.Uint64N(1e12), 10))
		}
		return withAttachments(g, cat, setupMain, expAny, `452-["ping",`+strings.Join(ps, ",")+`]`, 2)
	case 5:
		return text(cat, setupMain, expAny, `42["ping",`+placeholder("0")+`]`)
	case 6: // a binary frame nothing announced
		return item{cat: cat, setup: setupMain, expect: expClose, frames: []frame{{data: g.bytes(16), binary: true}}}
	case 7: // announced, then text instead of the attachment (the probe)
		return text(cat, setupMain, expClose, `451-["ping",`+placeholder("0")+`]`)
	case 8:
		return withAttachments(g, cat, setupDrivers, expAny, `461-/drivers,3[`+placeholder("0")+`]`, 1)
	case 9:
		return withAttachments(g, cat, setupDrivers, expAny, `451-/drivers,`+strconv.FormatUint(g.ackID(), 10)+`["pickup:claim",`+placeholder("0")+`]`, 1)
	case 10: // more attachments than announced
		return withAttachments(g, cat, setupMain, expClose, `451-["ping",`+placeholder("0")+`]`, 3)
	default:
		return withAttachments(g, cat, setupMain, expAny, `451-["ping",{"__proto__":`+placeholder("0")+`,"constructor":`+placeholder("0")+`}]`, 1)
	}
}

var reservedNames = []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

func genReserved(g *gen) item {
	const cat = "reserved-names"
	switch g.r.IntN(5) {
	case 0, 1:
		return text(cat, setupMain, expClose, event("/", uint64(g.r.IntN(2))*g.ackID(), g.pick(reservedNames), g.pick([]string{"", `{"token":"x"}`, `"123"`})))
	case 2:
		return text(cat, setupDrivers, expClose, event("/drivers", 0, g.pick(reservedNames), ""))
	case 3: // "error" is not reserved in v5: an unknown event, ignored
		return text(cat, setupMain, expOpen, event("/", g.ackID(), "error", `{"message":"boom"}`))
	default: // names that are not strings or numbers
		return text(cat, setupMain, expClose, "42"+g.pick([]string{`[null]`, `[true]`, `[{"toString":"x"}]`, `[[]]`, `[]`, `{}`, `"ping"`, `[null,"bar"]`, `[true,"foo"]`}))
	}
}
