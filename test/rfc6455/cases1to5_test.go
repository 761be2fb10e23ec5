package rfc6455

import (
	"bytes"
	"strings"
)

// Categories 1–5 of the Autobahn fuzzingclient, in its order.

func framingCases() []wsCase {
	var cs []wsCase
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for i, n := range sizes {
		p := strings.Repeat("*", n)
		cs = append(cs, echoCase(id(1, 1, i+1), "Send text message with payload of length "+itoa(n)+".",
			func(s *script) { s.send(text(p)) }, msg(p)))
	}
	p := strings.Repeat("*", 65536)
	cs = append(cs, echoCase("1.1.8", "Send text message with payload of length 65536, in chops of 997 octets.",
		func(s *script) { s.sendChopped(997, text(p)) }, msg(p)))
	for i, n := range sizes {
		b := bytes.Repeat([]byte{0xfe}, n)
		cs = append(cs, echoCase(id(1, 2, i+1), "Send binary message with payload of length "+itoa(n)+".",
			func(s *script) { s.send(bin(b)) }, binMsg(b)))
	}
	b := bytes.Repeat([]byte{0xfe}, 65536)
	cs = append(cs, echoCase("1.2.8", "Send binary message with payload of length 65536, in chops of 997 octets.",
		func(s *script) { s.sendChopped(997, bin(b)) }, binMsg(b)))
	return cs
}

func pingCases() []wsCase {
	bin8 := "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
	b125 := strings.Repeat("\xfe", 125)
	tenPings := func(chop int) func(*script) {
		return func(s *script) {
			for i := range 10 {
				s.sendChopped(chop, ping("payload-"+itoa(i)))
			}
		}
	}
	var ten []event
	for i := range 10 {
		ten = append(ten, pongEv("payload-"+itoa(i)))
	}
	return []wsCase{
		echoCase("2.1", "Send ping without payload.", func(s *script) { s.send(ping("")) }, pongEv("")),
		echoCase("2.2", "Send ping with small text payload.", func(s *script) { s.send(ping("Hello, world!")) }, pongEv("Hello, world!")),
		echoCase("2.3", "Send ping with small binary (non UTF-8) payload.", func(s *script) { s.send(ping(bin8)) }, pongEv(bin8)),
		echoCase("2.4", "Send ping with binary payload of 125 octets.", func(s *script) { s.send(ping(b125)) }, pongEv(b125)),
		failCase("2.5", "Send ping with binary payload of 126 octets.", 1002, func(s *script) { s.send(ping(b125 + "\xfe")) }),
		echoCase("2.6", "Send ping with binary payload of 125 octets, in octet-wise chops.", func(s *script) { s.sendChopped(1, ping(b125)) }, pongEv(b125)),
		echoCase("2.7", "Send unsolicited pong without payload. Verify nothing is received.", func(s *script) {
			s.send(pong(""))
			s.close(closePayload(1000, ""))
		}),
		echoCase("2.8", "Send unsolicited pong with payload. Verify nothing is received.", func(s *script) {
			s.send(pong("unsolicited pong payload"))
			s.close(closePayload(1000, ""))
		}),
		echoCase("2.9", "Send unsolicited pong with payload, then ping with payload. Verify pong for ping is received.", func(s *script) {
			s.send(pong("unsolicited pong payload"), ping("ping payload"))
		}, pongEv("ping payload")),
		echoCase("2.10", "Send 10 pings with payload.", tenPings(0), ten...),
		echoCase("2.11", "Send 10 pings with payload, in octet-wise chops.", tenPings(1), ten...),
	}
}

func reservedBitCases() []wsCase {
	hello := "Hello, world!"
	withRSV := func(f frame, rsv byte) frame { f.rsv = rsv; return f }
	echoThenFail := func(rsv byte, send func(s *script, fs ...frame)) func(*script) {
		return func(s *script) { send(s, text(hello), withRSV(text(hello), rsv), ping("")) }
	}
	const note = "the echo of the first message is queued before the RSV frame is read, and goes out before the close frame"
	c32 := failCase("3.2", "Send small text message, then again with RSV = 2, then ping.", 1002,
		echoThenFail(2, func(s *script, fs ...frame) { s.send(fs...) }), msg(hello)).orNone()
	c33 := failCase("3.3", "Send small text message, then again with RSV = 3, then ping; frame-wise chops.", 1002,
		echoThenFail(3, func(s *script, fs ...frame) { s.sendEach(fs...) }), msg(hello)).orNone()
	c34 := failCase("3.4", "Send small text message, then again with RSV = 4, then ping; octet-wise chops.", 1002,
		echoThenFail(4, func(s *script, fs ...frame) { s.sendChopped(1, fs...) }), msg(hello)).orNone()
	c32.note, c33.note, c34.note = note, note, note
	return []wsCase{
		failCase("3.1", "Send small text message with RSV = 1.", 1002, func(s *script) { s.send(withRSV(text(hello), 1)) }),
		c32, c33, c34,
		failCase("3.5", "Send small binary message with RSV = 5.", 1002, func(s *script) {
			s.send(withRSV(bin([]byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")), 5))
		}),
		failCase("3.6", "Send ping with RSV = 6.", 1002, func(s *script) { s.send(withRSV(ping(hello), 6)) }),
		failCase("3.7", "Send close with RSV = 7.", 1002, func(s *script) { s.send(withRSV(frame{op: opClose, fin: true}, 7)) }),
	}
}

func opcodeCases() []wsCase {
	hello := "Hello, world!"
	var cs []wsCase
	for i, op := range []byte{3, 4, 5, 6, 7} {
		f := frame{op: op, fin: true}
		if op != 3 && op != 5 {
			f.payload = []byte(hello)
		}
		desc := "Send frame with reserved non-control opcode = " + itoa(int(op)) + "."
		if op >= 5 {
			desc = "Send small text message, then frame with reserved non-control opcode = " + itoa(int(op)) + ", then ping."
			c := failCase(id(4, 1, i+1), desc, 1002, func(s *script) { s.send(text(hello), f, ping("")) }, msg(hello)).orNone()
			cs = append(cs, c)
			continue
		}
		cs = append(cs, failCase(id(4, 1, i+1), desc, 1002, func(s *script) { s.send(f) }))
	}
	for i, op := range []byte{11, 12, 13, 14, 15} {
		f := frame{op: op, fin: true}
		if op == 12 || op == 14 || op == 15 {
			f.payload = []byte(hello)
		}
		desc := "Send frame with reserved control opcode = " + itoa(int(op)) + "."
		if op >= 13 {
			desc = "Send small text message, then frame with reserved control opcode = " + itoa(int(op)) + ", then ping."
			cs = append(cs, failCase(id(4, 2, i+1), desc, 1002, func(s *script) { s.send(text(hello), f, ping("")) }, msg(hello)).orNone())
			continue
		}
		cs = append(cs, failCase(id(4, 2, i+1), desc, 1002, func(s *script) { s.send(f) }))
	}
	return cs
}

func fragmentationCases() []wsCase {
	f := fragment
	both := []event{msg("fragment1fragment2")}
	two := []frame{f(opText, false, "fragment1"), f(opCont, true, "fragment2")}
	withPing := []frame{f(opText, false, "fragment1"), ping("ping payload"), f(opCont, true, "fragment2")}
	pongBoth := []event{pongEv("ping payload"), msg("fragment1fragment2")}
	nothing := func(op byte, fin bool) []frame {
		return []frame{f(opCont, fin, "non-continuation payload"), text("Hello, world!")}
	}
	fin := map[bool]string{true: "true", false: "false"}
	var cs []wsCase
	cs = append(cs,
		failCase("5.1", "Send ping fragmented into 2 fragments.", 1002, func(s *script) {
			s.send(f(opPing, false, "fragment1"), f(opCont, true, "fragment2"))
		}),
		failCase("5.2", "Send pong fragmented into 2 fragments.", 1002, func(s *script) {
			s.send(f(opPong, false, "fragment1"), f(opCont, true, "fragment2"))
		}),
		echoCase("5.3", "Send text message fragmented into 2 fragments.", func(s *script) { s.send(two...) }, both...),
		echoCase("5.4", "Same as 5.3, in frame-wise chops.", func(s *script) { s.sendEach(two...) }, both...),
		echoCase("5.5", "Same as 5.3, in octet-wise chops.", func(s *script) { s.sendChopped(1, two...) }, both...),
		echoCase("5.6", "Send text message fragmented into 2 fragments, one ping with payload in-between.", func(s *script) { s.send(withPing...) }, pongBoth...),
		echoCase("5.7", "Same as 5.6, in frame-wise chops.", func(s *script) { s.sendEach(withPing...) }, pongBoth...),
		echoCase("5.8", "Same as 5.6, in octet-wise chops.", func(s *script) { s.sendChopped(1, withPing...) }, pongBoth...),
	)
	n := 9
	for _, finBit := range []bool{true, false} {
		for _, way := range []struct {
			name string
			send func(s *script, fs ...frame)
		}{
			{"in one chop", func(s *script, fs ...frame) { s.send(fs...) }},
			{"in frame-wise chops", func(s *script, fs ...frame) { s.sendEach(fs...) }},
			{"in octet-wise chops", func(s *script, fs ...frame) { s.sendChopped(1, fs...) }},
		} {
			frames := nothing(opCont, finBit)
			cs = append(cs, failCase("5."+itoa(n), "Send unfragmented text message after a continuation frame with FIN = "+fin[finBit]+
				", where there is nothing to continue, "+way.name+".", 1002, func(s *script) { way.send(s, frames...) }))
			n++
		}
	}
	c515 := failCase("5.15", "Send text message fragmented into 2 fragments, then continuation frame with FIN = false where there is nothing to continue, then unfragmented text message, in one chop.",
		1002, func(s *script) {
			s.send(f(opText, false, "fragment1"), f(opCont, true, "fragment2"), f(opCont, false, "fragment3"), f(opText, true, "fragment4"))
		}, both...).orNone()
	c515.note = "the first message is complete before the stray continuation, so its echo goes out before the close frame"
	cs = append(cs, c515,
		failCase("5.16", "Repeated 2x: continuation frame with FIN = false (nothing to continue), then text message fragmented into 2 fragments.", 1002, func(s *script) {
			for range 2 {
				s.send(f(opCont, false, "fragment1"), f(opText, false, "fragment2"), f(opCont, true, "fragment3"))
			}
		}),
		failCase("5.17", "Repeated 2x: continuation frame with FIN = true (nothing to continue), then text message fragmented into 2 fragments.", 1002, func(s *script) {
			for range 2 {
				s.send(f(opCont, true, "fragment1"), f(opText, false, "fragment2"), f(opCont, true, "fragment3"))
			}
		}),
		failCase("5.18", "Send text message fragmented into 2 fragments, with both frame opcodes set to text, in one chop.", 1002, func(s *script) {
			s.send(f(opText, false, "fragment1"), f(opText, true, "fragment2"))
		}),
	)
	frags := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
	five := func(each bool) func(*script) {
		return func(s *script) {
			send := s.send
			if each {
				send = s.sendEach
			}
			send(f(opText, false, frags[0]), f(opCont, false, frags[1]), ping("pongme 1!"))
			s.pause("A") // Autobahn waits 1 s here; the pong must come before the message ends
			send(f(opCont, false, frags[2]), f(opCont, false, frags[3]), ping("pongme 2!"), f(opCont, true, frags[4]))
		}
	}
	// The pause is part of the script, so it shows as a timeout event.
	want := []event{pongEv("pongme 1!"), timeout("A"), pongEv("pongme 2!"), msg(strings.Join(frags, ""))}
	c519 := echoCase("5.19", "A fragmented text message in 5 frames, a ping after the 2nd and the 4th, a pause after the first ping.", five(false), want...)
	c520 := echoCase("5.20", "Same as 5.19, each frame in a write of its own.", five(true), want...)
	c519.note = "the first pong arrives during the pause, before the message is complete (the event list shows the pause as timeout A)"
	c520.note = c519.note
	return append(cs, c519, c520)
}

func id(a, b, c int) string { return itoa(a) + "." + itoa(b) + "." + itoa(c) }
