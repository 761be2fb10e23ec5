//go:build linux

package hostile

import (
	"encoding/base64"
	"strings"
)

func genOversized(g *gen) item {
	const cat = "oversized"
	n := maxPayload + 1 + g.r.IntN(1000)
	switch g.turn(cat) % 3 {
	case 0:
		return item{cat: cat, setup: setupMain, expect: expClose, frames: []frame{{data: g.bytes(n), binary: true}}}
	case 1:
		return item{cat: cat, setup: setupPolling, expect: expTooLarge, frames: []frame{{data: []byte(`42["ping",` + `"` + strings.Repeat("p", n) + `"]`)}}}
	default:
		return text(cat, setupMain, expClose, `42["ping","`+strings.Repeat("w", n)+`"]`)
	}
}

func poll(cat string, body []byte) item {
	return item{cat: cat, setup: setupPolling, frames: []frame{{data: body}}}
}

func genPollGarbage(g *gen) item {
	const cat = "poll-garbage"
	switch g.r.IntN(8) {
	case 0, 1:
		return poll(cat, g.bytes(1+g.r.IntN(2000)))
	case 2:
		return poll(cat, append([]byte("4"), g.bytes(g.r.IntN(200))...))
	case 3:
		return poll(cat, []byte("b"+g.pick([]string{"!!!", "====", "", "AQID", "%%%", base64.StdEncoding.EncodeToString(g.bytes(32))})))
	case 4:
		return poll(cat, []byte(g.pick([]string{"", "0", "1", "2", "2probe", "5", "6", "7", "40{\"token\":", "40/drivers,{\"token\":\"" + g.pick(g.tok.bad["driver"]) + "\"}"})))
	case 5:
		return poll(cat, []byte(strings.Repeat("9", 1+g.r.IntN(5000))))
	case 6:
		return poll(cat, []byte(strings.TrimSuffix(strings.Repeat("3\x1e", 1+g.r.IntN(10_000)), "\x1e")))
	default:
		return poll(cat, []byte("40\x1e"+g.pick([]string{`42["ping"]`, `42["connect"]`, `451-["ping",` + placeholder("0") + `]`, `4` + strings.Repeat("[", 20_000)})))
	}
}

var junkRecords = []string{"", "4", "40", "42[", `42["ping"]`, "41", "bZZZ", "b", "bAQID", "7", "\x00", "1", "3", "6", "451-[" + placeholder("0") + "]", "4/", "40/drivers,{", "\xff\xfe"}

func genPollJunk(g *gen) item {
	n := 2 + g.r.IntN(50)
	parts := make([]string, n)
	for i := range parts {
		if g.r.IntN(4) == 0 {
			parts[i] = strings.ReplaceAll(string(g.bytes(1+g.r.IntN(40))), "\x1e", "")
		} else {
			parts[i] = g.pick(junkRecords)
		}
	}
	body := strings.Join(parts, "\x1e")
	if g.r.IntN(3) == 0 {
		body = "\x1e" + body + "\x1e"
	}
	return poll("poll-rs-junk", []byte(body))
}
