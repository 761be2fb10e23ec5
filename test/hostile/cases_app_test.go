//go:build linux

package hostile

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// protoKeys are the keys of prototype-pollution attacks on JavaScript
// servers; a Go server must treat them as ordinary unknown fields.
var protoKeys = []string{"__proto__", "constructor", "prototype", "__defineGetter__", "hasOwnProperty", "toString", "valueOf"}

// nsEvents are the documented client→server events of each namespace.
var nsEvents = map[setup][]string{
	setupVendors:   {"order:create", "order:cancel", "orders:list"},
	setupDrivers:   {"pickups:subscribe", "pickup:claim", "order:picked_up", "order:in_transit", "order:delivered", "location:update", "driver:duty"},
	setupCustomers: {"order:watch", "order:unwatch"},
}

var nsSetups = []setup{setupVendors, setupDrivers, setupCustomers}

func genProto(g *gen) item {
	const cat = "proto-pollution"
	key := g.pick(protoKeys)
	switch g.r.IntN(5) {
	case 0, 1: // in an event payload
		s := nsSetups[g.r.IntN(len(nsSetups))]
		id := g.ackID()
		inner := g.pick([]string{`{"orderId":"0190a8c4-5d1e-7c3a-9b2f-1234567890ab"}`, `{"role":"vendor","tenant":"x"}`, `{"zone":"z"}`, `{"polluted":true}`, `null`, `[]`})
		arg := fmt.Sprintf(`{%q:%s,"constructor":{"prototype":%s}}`, key, inner, inner)
		it := text(cat, s, expAck, event(s.ns(), id, g.pick(nsEvents[s]), arg))
		it.ns, it.ackID, it.keeps = s.ns(), id, true
		return it
	case 2: // as the event name: an unknown event, ignored
		s := nsSetups[g.r.IntN(len(nsSetups))]
		it := text(cat, s, expOpen, event(s.ns(), g.ackID(), key, `{}`))
		it.keeps = true
		return it
	default: // in the auth payload, hiding a valid token
		ns := g.pick([]string{"/vendors", "/drivers", "/customers"})
		role := roleOfNS[ns]
		valid := g.tok.ctl[role]
		forbidden := g.tok.ctl["driver"]
		if role == "driver" {
			forbidden = g.tok.ctl["customer"]
		}
		auth := g.pick([]string{
			fmt.Sprintf(`{%q:{"token":%q}}`, key, valid),
			fmt.Sprintf(`{"constructor":{"prototype":{"token":%q}}}`, valid),
			fmt.Sprintf(`{"token":%q,%q:{"role":%q}}`, forbidden, key, role),
			fmt.Sprintf(`{"token":{%q:%q}}`, key, valid),
			fmt.Sprintf(`{"token":[%q]}`, valid),
			fmt.Sprintf(`{"token":%q,"token":"garbage"}`, valid),
		})
		it := text(cat, setupMain, expRefused, "40"+ns+","+auth)
		it.ns = ns
		return it
	}
}

// genBadTokens claims the control tenant's users with tokens the server
// must refuse.
func genBadTokens(g *gen) item {
	const cat = "bad-tokens"
	ns := g.pick([]string{"/vendors", "/drivers", "/customers"})
	bad := g.tok.bad[roleOfNS[ns]]
	var auth string
	switch g.r.IntN(10) {
	case 0:
		auth = g.pick([]string{`{"token":123}`, `{"token":null}`, `{"token":true}`, `{"token":{}}`, `{}`, `{"Token":"` + g.letters(40) + `"}`,
			`"` + g.tok.ctl[roleOfNS[ns]] + `"`, `[1]`, `123`, `null`, `true`})
	case 1:
		auth = `{"token":"` + base64.RawURLEncoding.EncodeToString(g.bytes(75_000)) + `.x.y"}`
	default:
		auth = fmt.Sprintf(`{"token":%q}`, g.pick(bad))
	}
	it := text(cat, setupMain, expRefused, "40"+ns+","+auth)
	it.ns = ns
	return it
}

// badRefs are order references every order event must refuse as
// invalid_argument.
var badRefs = []string{
	"", `123`, `"x"`, `[1]`, `null`, `true`, `[]`, `{}`, `{"orderId":123}`, `{"orderId":"nope"}`, `{"orderId":""}`,
	`{"orderId":null}`, `{"orderId":["0190a8c4-5d1e-7c3a-9b2f-1234567890ab"]}`, `{"orderId":{"$gt":""}}`,
	`{"orderId":"' OR 1=1 --"}`, `{"orderId":"../../etc/passwd"}`, `{"orderId":"0190a8c4-5d1e-7c3a-9b2f-1234567890ab\u0000"}`,
	`{"orderId":"0190A8C4-5D1E-7C3A-9B2F-1234567890AB"}`, `{"orderId":"0190a8c45d1e7c3a9b2f1234567890ab"}`,
	`{"orderId":1e999}`, `{"orderId":"` + strings.Repeat("o", 10_000) + `"}`,
}

var place = `{"address":"1 Pick St","lat":52.5,"lng":13.4}`

func createWith(fields string) string {
	return `{"store":"S","customerId":"c1","pickup":` + place + `,"dropoff":` + place + fields + `}`
}

var badCreates = []string{
	"", `1`, `[]`, `"x"`, `null`, `{}`, `{"store":1}`, `{"store":"s","customerId":5}`, `{"store":"   ","customerId":"c1","pickup":` + place + `,"dropoff":` + place + `}`,
	createWith(`,"pickup":"x"`), createWith(`,"pickup":{"address":"a","lat":"NaN","lng":0}`), createWith(`,"dropoff":{"address":"a","lat":1e999,"lng":0}`),
	createWith(`,"dropoff":{"address":"a","lat":91,"lng":0}`), createWith(`,"items":"x"`), createWith(`,"items":[1,2]`),
	createWith(`,"items":[{"name":"n","qty":0}]`), createWith(`,"items":[{"name":"n","qty":1e10}]`),
	createWith(`,"items":[` + strings.TrimSuffix(strings.Repeat(`{"name":"n","qty":1},`, 101), ",") + `]`),
	createWith(`,"idempotencyKey":"` + strings.Repeat("k", 129) + `"`), createWith(`,"zone":"` + strings.Repeat("z", 10_000) + `"`),
	createWith(`,"customerId":"../x"`), createWith(`,"customerId":"` + strings.Repeat("c", 65) + `"`),
	createWith(`,"store":"` + strings.Repeat("s", 201) + `"`),
}

var badLists = []string{`1`, `"x"`, `[]`, `null`, `true`, `{"status":5}`, `{"status":"bogus"}`, `{"status":["ready"]}`, `{"status":{"$ne":null}}`}

var badSubscribes = []string{`7`, `"x"`, `[]`, `null`, `true`, `{"zone":5}`, `{"zone":"a b"}`, `{"zone":"../etc"}`, `{"zone":["a"]}`,
	`{"zone":{"$ne":null}}`, `{"zone":"` + strings.Repeat("z", 10_000) + `"}`, `{"zone":"z\u0000"}`}

var badLocations = []string{
	"", `"NaN"`, `1`, `[]`, `null`, `{"lat":"NaN","lng":0}`, `{"lat":"Infinity","lng":"-Infinity"}`, `{"lat":1e999,"lng":0}`,
	`{"lat":0,"lng":-1e999}`, `{"lat":91,"lng":0}`, `{"lat":0,"lng":180.0000001}`, `{"lat":-90.5,"lng":0}`,
	`{"lat":1,"lng":1,"heading":"NaN"}`, `{"lat":1,"lng":1,"speed":[1]}`, `{"lat":[1],"lng":2}`, `{"lat":1e308,"lng":1e308}`,
	`{"lat":"52.5","lng":"13.4"}`, `{"lat":true,"lng":false}`,
}

var badDuties = []string{
	"", `true`, `[]`, `null`, `{}`, `{"onDuty":null}`, `{"onDuty":"true"}`, `{"onDuty":1}`, `{"onDuty":[true]}`, `{"on_duty":true}`,
}

// bigString is a 500 KB JSON string, below maxPayload.
var bigString = `"` + strings.Repeat("A", 500_000) + `"`

// genWrongArgs sends every documented event an argument of the wrong
// shape, over a valid session; the contract answers invalid_argument.
func genWrongArgs(g *gen) item {
	s := nsSetups[g.r.IntN(len(nsSetups))]
	name := g.pick(nsEvents[s])
	var arg string
	switch name {
	case "order:create":
		switch g.r.IntN(40) {
		case 0:
			arg = bigString
		case 1:
			arg = createWith(`,"store":` + bigString)
		default:
			arg = g.pick(badCreates)
		}
	case "orders:list":
		arg = g.pick(badLists)
	case "pickups:subscribe":
		arg = g.pick(badSubscribes)
	case "location:update":
		arg = g.pick(badLocations)
	case "driver:duty":
		arg = g.pick(badDuties)
	default:
		arg = g.pick(badRefs)
	}
	id := g.ackID()
	it := text("wrong-args", s, expAckFail, event(s.ns(), id, name, arg))
	it.ns, it.ackID, it.keeps = s.ns(), id, true
	return it
}
