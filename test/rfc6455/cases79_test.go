package rfc6455

import (
	"bytes"
	"strings"
	"time"
)

// Category 7: close handling.

func closeCases() []wsCase {
	closeN := func(s *script) { s.close(closePayload(1000, "")) }
	hello := "Hello World!"
	c716 := echoCase("7.1.6", "Send 256K message followed by close then a ping.", func(s *script) {
		s.send(text(strings.Repeat("BAsd7&jh23", 256<<10/10)), text(hello))
		s.close(closePayload(1000, ""))
		s.send(ping(""))
	}, msg(strings.Repeat("BAsd7&jh23", 256<<10/10)), msg(hello))
	c716.informational = true
	c716.note = "replies to messages read before the close go out before the close frame, so both echoes arrive"
	cs := []wsCase{
		echoCase("7.1.1", "Send a message followed by a close frame.", func(s *script) { s.send(text(hello)); closeN(s) }, msg(hello)),
		echoCase("7.1.2", "Send two close frames.", func(s *script) { closeN(s); s.send(frame{op: opClose, fin: true}) }),
		echoCase("7.1.3", "Send a ping after close message.", func(s *script) { closeN(s); s.send(ping("")) }),
		echoCase("7.1.4", "Send text message after sending a close frame.", func(s *script) { closeN(s); s.send(text(hello)) }),
		echoCase("7.1.5", "Send message fragment1 followed by close then fragment.", func(s *script) {
			s.send(fragment(opText, false, "fragment1"))
			closeN(s)
			s.send(fragment(opCont, true, "fragment2"))
		}),
		c716,
		echoCase("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason).", func(s *script) { s.close(nil) }),
		closeByClientCase("7.3.2", "Send a close frame with payload length 1.", []byte("a"), 1002),
		echoCase("7.3.3", "Send a close frame with payload length 2 (regular close with a code).", closeN),
		echoCase("7.3.4", "Send a close frame with close code and close reason.", func(s *script) { s.close(closePayload(1000, hello)) }),
		echoCase("7.3.5", "Send a close frame with close code and close reason of maximum length (123).", func(s *script) {
			s.close(closePayload(1000, strings.Repeat("*", 123)))
		}),
		closeByClientCase("7.3.6", "Send a close frame with close code and a close reason which is too long (124): total payload 126 octets.",
			closePayload(1000, strings.Repeat("*", 124)), 1002),
		closeByClientCase("7.5.1", "Send a close frame with invalid UTF-8 payload.",
			closePayload(1000, kosme+"\xed\xa0\x80edited"), 1002, 1007),
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		c := echoCase(id(7, 7, i+1), "Send close with valid close code "+itoa(code)+".", func(s *script) { s.close(closePayload(code, "")) })
		c.codes = []int{1000, code}
		cs = append(cs, c)
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cs = append(cs, closeByClientCase(id(7, 9, i+1), "Send close with invalid close code "+itoa(code)+".", closePayload(code, ""), 1002))
	}
	for i, code := range []int{5000, 65535} {
		c := closeByClientCase(id(7, 13, i+1), "Send close with close code "+itoa(code)+".", closePayload(code, ""), 1000, code, 1002)
		c.informational = true
		c.note = "undefined by the spec; the server fails it with 1002 (codes above 4999 are not valid)"
		cs = append(cs, c)
	}
	return cs
}

// closeByClientCase sends close payload p and expects the server's close
// to carry one of codes (or to drop the connection).
func closeByClientCase(id, desc string, p []byte, codes ...int) wsCase {
	return wsCase{id: id, desc: desc, run: func(s *script) { s.close(p) }, codes: codes}
}

// Category 9: limits and performance, scaled down (see sizes below).

// maxPayload is the fixture's MaxPayload: a larger message gets 1009.
const maxPayload = 1_000_000

func limitCases() []wsCase {
	var cs []wsCase
	// 9.1/9.2: Autobahn's sizes; those over MaxPayload are failed with
	// 1009 as soon as the header announces them.
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	names := []string{"64k", "256k", "1M", "4M", "8M", "16M"}
	for i, n := range sizes {
		cs = append(cs, sizedCase(id(9, 1, i+1), "Send text message with payload of length "+names[i]+".", false, n, 0, 0))
	}
	for i, n := range sizes {
		cs = append(cs, sizedCase(id(9, 2, i+1), "Send binary message with payload of length "+names[i]+".", true, n, 0, 0))
	}
	// 9.3/9.4: Autobahn sends 4M in fragments of 64 to 4M; here the
	// message is 128k (under MaxPayload, and written well within one
	// heartbeat), in the same fragment sizes (those of 128k and more make
	// one frame).
	frags := []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}
	fragNames := []string{"64", "256", "1k", "4k", "16k", "64k", "256k", "1M", "4M"}
	for i, fs := range frags {
		cs = append(cs, sizedCase(id(9, 3, i+1), "Send fragmented text message of 128k (Autobahn: 4M) in fragments of "+fragNames[i]+".", false, 128<<10, fs, 0))
	}
	for i, fs := range frags {
		cs = append(cs, sizedCase(id(9, 4, i+1), "Send fragmented binary message of 128k (Autobahn: 4M) in fragments of "+fragNames[i]+".", true, 128<<10, fs, 0))
	}
	// 9.5/9.6: Autobahn sends 1M in chops of 64 to 2048 octets; here 64k
	// (1M is over MaxPayload, and 64k in chops of 64 is already 1024
	// writes).
	chops := []int{64, 128, 256, 512, 1024, 2048}
	for i, ch := range chops {
		cs = append(cs, sizedCase(id(9, 5, i+1), "Send text message of 64k (Autobahn: 1M) in chops of "+itoa(ch)+" octets.", false, 64<<10, 0, ch))
	}
	for i, ch := range chops {
		cs = append(cs, sizedCase(id(9, 6, i+1), "Send binary message of 64k (Autobahn: 1M) in chops of "+itoa(ch)+" octets.", true, 64<<10, 0, ch))
	}
	// 9.7/9.8: round trips, one message at a time; 100 instead of 1000.
	for b, kind := range []string{"text", "binary"} {
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			cs = append(cs, roundTripCase(id(9, 7+b, i+1), "Send 100 (Autobahn: 1000) "+kind+" messages of payload size "+itoa(n)+", one at a time.", b == 1, n, 100))
		}
	}
	return cs
}

// sizedCase sends one message of n bytes, in fragments of frag bytes (0:
// one frame), written in chops of chop bytes (0: one write).
func sizedCase(id, desc string, binary bool, n, frag, chop int) wsCase {
	payload := bytes.Repeat([]byte("BAsd7&jh23"), n/10+1)[:n]
	if binary {
		payload = bytes.Repeat([]byte{0xfe}, n)
	}
	op := opText
	want := msg(string(payload))
	if binary {
		op, want = opBinary, binMsg(payload)
	}
	run := func(s *script) {
		var fs []frame
		for at := 0; at < n || at == 0; {
			end := n
			if frag > 0 {
				end = min(n, at+frag)
			}
			f := frame{op: opCont, fin: end == n, payload: payload[at:end]}
			if at == 0 {
				f.op = op
			}
			fs = append(fs, f)
			at = end
			if n == 0 {
				break
			}
		}
		// Sent at once after the handshake: the first Engine.IO ping
		// comes 300 ms after the open packet and may wait 200 ms for its
		// answer, which the client cannot give while the message is half
		// sent.
		s.sendChopped(chop, fs...)
	}
	c := echoCase(id, desc, run, want)
	c.wait = 10 * time.Second
	if n > maxPayload {
		// The server refuses on the header; the client goes on sending
		// until it hangs up, without building megabytes it won't read.
		c = failCase(id, desc, 1009, func(s *script) { s.stream(op, n) })
		c.overLimit = true
		c.note = "over MaxPayload (1,000,000 bytes): refused with 1009 as soon as the header announces it"
	}
	return c
}

// roundTripCase sends count messages of n bytes, each after the echo of
// the one before.
func roundTripCase(id, desc string, binary bool, n, count int) wsCase {
	p := bytes.Repeat([]byte{'*'}, n)
	f, want := text(string(p)), msg(string(p))
	if binary {
		p = bytes.Repeat([]byte{0xfe}, n)
		f, want = bin(p), binMsg(p)
	}
	var wants []event
	for range count {
		wants = append(wants, want)
	}
	c := echoCase(id, desc, func(s *script) {
		for i := range count {
			s.send(f)
			s.waitMessages(i+1, 5*time.Second)
		}
	}, wants...)
	c.wait = 10 * time.Second
	return c
}
