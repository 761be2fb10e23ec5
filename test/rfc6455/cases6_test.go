package rfc6455

import (
	"unicode/utf8"
)

// Category 6: UTF-8 handling. Text that is not UTF-8 must fail the
// connection with 1007, as early as the server can tell.

const (
	kosme  = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" // κόσμε
	helloU = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
)

func utf8Cases() []wsCase {
	f := fragment
	cs := []wsCase{
		echoCase("6.1.1", "Send text message of length 0.", func(s *script) { s.send(text("")) }, msg("")),
		echoCase("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", func(s *script) {
			s.send(f(opText, false, ""), f(opCont, false, ""), f(opCont, true, ""))
		}, msg("")),
		echoCase("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", func(s *script) {
			s.send(f(opText, false, ""), f(opCont, false, "middle frame payload"), f(opCont, true, ""))
		}, msg("middle frame payload")),
		echoCase("6.2.1", "Send a valid UTF-8 text message in one fragment.", func(s *script) { s.send(text(helloU)) }, msg(helloU)),
		echoCase("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on a code point boundary.", func(s *script) {
			s.send(f(opText, false, helloU[:17]), f(opCont, true, helloU[17:]))
		}, msg(helloU)),
		echoCase("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, ending inside code points.", func(s *script) {
			s.send(octetFragments(helloU)...)
		}, msg(helloU)),
		echoCase("6.2.4", "Send a valid UTF-8 text message (κόσμε) in fragments of 1 octet, ending inside code points.", func(s *script) {
			s.send(octetFragments(kosme)...)
		}, msg(kosme)),
		failCase("6.3.1", "Send invalid UTF-8 text message unfragmented.", 1007, func(s *script) {
			s.send(text(kosme + "\xed\xa0\x80" + "edited"))
		}),
		failCase("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet.", 1007, func(s *script) {
			s.send(octetFragments(kosme + "\xed\xa0\x80" + "edited")...)
		}),
	}
	// 6.4: fail fast. The payload is κόσμε, then F4 90 80 80 (U+110000
	// in the UTF-8 scheme: out of range, invalid at its 2nd byte, 0x90),
	// then "edited". The server must fail at the piece with the bad byte,
	// not wait for the message's end (that would be NON-STRICT).
	bad := kosme + "\xf4\x90\x80\x80" + "edited"
	inFrames := func(cut1, cut2 int) func(*script) {
		return func(s *script) {
			s.send(f(opText, false, bad[:cut1]))
			if !s.pause("A") {
				return
			}
			s.send(f(opCont, false, bad[cut1:cut2]))
			if !s.pause("B") {
				return
			}
			s.send(f(opCont, true, bad[cut2:]))
		}
	}
	inChops := func(cut1, cut2 int) func(*script) {
		return func(s *script) {
			wired := s.wire(text(bad))[0]
			enc := wired.encode()
			at := len(enc) - len(wired.payload) + len(s.ep.prefix) // where the case's payload starts
			s.raw(enc[:at+cut1], true)
			if !s.pause("A") {
				return
			}
			s.raw(enc[at+cut1:at+cut2], true)
			if !s.pause("B") {
				return
			}
			s.raw(enc[at+cut2:], false)
		}
	}
	failFast := func(id, desc string, run func(*script)) wsCase {
		c := failCase(id, desc, 1007, run, timeout("A"))
		c.hasNonStrict, c.nonStrict = true, []event{timeout("A"), timeout("B")}
		return c
	}
	cs = append(cs,
		failFast("6.4.1", "Invalid UTF-8 text message in 3 frames: valid, then the part making it invalid, then the rest, with pauses.", inFrames(len(kosme), len(kosme)+4)),
		failFast("6.4.2", "Same as 6.4.1, but the 2nd frame holds only the octet that makes the payload invalid.", inFrames(12, 13)),
		failFast("6.4.3", "Same as 6.4.1, but in 3 chops of one frame.", inChops(len(kosme), len(kosme)+4)),
		failFast("6.4.4", "Same as 6.4.2, but in 3 chops of one frame.", inChops(12, 13)),
	)
	for gi, g := range utf8Groups() {
		for i, p := range g.payloads {
			id := id(6, gi+5, i+1)
			valid := utf8.ValidString(p)
			if valid {
				cs = append(cs, echoCase(id, g.name+": valid UTF-8 in one fragment, "+hexOf(p)+".", func(s *script) { s.send(text(p)) }, msg(p)))
			} else {
				cs = append(cs, failCase(id, g.name+": invalid UTF-8 in one fragment, "+hexOf(p)+".", 1007, func(s *script) { s.send(text(p)) }))
			}
		}
	}
	return cs
}

// octetFragments cuts p into one frame per octet.
func octetFragments(p string) []frame {
	if p == "" {
		return []frame{text("")}
	}
	fs := make([]frame, len(p))
	for i := 0; i < len(p); i++ { // octets, not runes
		op := opCont
		if i == 0 {
			op = opText
		}
		fs[i] = fragment(op, i == len(p)-1, p[i:i+1])
	}
	return fs
}

func hexOf(p string) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 2+2*len(p))
	b = append(b, "0x"...)
	for i := 0; i < len(p) && i < 24; i++ {
		b = append(b, digits[p[i]>>4], digits[p[i]&15])
	}
	if len(p) > 24 {
		b = append(b, "…"...)
	}
	return string(b)
}

type utf8Group struct {
	name     string
	payloads []string
}

// utf8Groups are the sequences of Markus Kuhn's UTF-8 decoder test
// (cl.cam.ac.uk/~mgk25/ucs/examples/UTF-8-test.txt) that Autobahn sends
// as cases 6.5 to 6.23, in its order. Validity is the standard library's,
// which follows RFC 3629 as Autobahn's validator does.
func utf8Groups() []utf8Group {
	var prefixes []string
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
	}
	var unexpected []string
	unexpected = append(unexpected, "\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf")
	all := ""
	for c := 0x80; c < 0xbf; c++ {
		all += string([]byte{byte(c)})
	}
	unexpected = append(unexpected, all)
	var lonely []string
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		s := ""
		for c := r[0]; c < r[1]; c++ {
			s += string([]byte{byte(c), 0x20})
		}
		lonely = append(lonely, s)
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	concat := ""
	for _, m := range missing {
		concat += m
	}
	nonChars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // above U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				zz := string([]byte{z1, z2, 0xbf, z3})
				if zz != "\xf0\x8f\xbf\xbe" && zz != "\xf0\x8f\xbf\xbf" { // overlong
					nonChars = append(nonChars, zz)
				}
			}
		}
	}
	return []utf8Group{
		{"Some valid UTF-8 sequences", []string{"hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme}},
		{"All prefixes of a valid UTF-8 string with multi-byte code points", prefixes},
		{"First possible sequence of a certain length", []string{"\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}},
		{"First possible sequence length 5/6 (invalid code points)", []string{"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"}},
		{"Last possible sequence of a certain length", []string{"\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}},
		{"Last possible sequence length 4/5/6 (invalid code points)", []string{"\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"}},
		{"Other boundary conditions", []string{"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80"}},
		{"Unexpected continuation bytes", unexpected},
		{"Lonely start characters", lonely},
		{"Sequences with last continuation byte missing", missing},
		{"Concatenation of incomplete sequences", []string{concat}},
		{"Impossible bytes", []string{"\xfe", "\xff", "\xfe\xfe\xff\xff"}},
		{"Examples of an overlong ASCII character", []string{"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"}},
		{"Maximum overlong sequences", []string{"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"}},
		{"Overlong representation of the NUL character", []string{"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"}},
		{"Single UTF-16 surrogates", []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"}},
		{"Paired UTF-16 surrogates", []string{"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"}},
		{"Non-character code points (valid UTF-8)", nonChars},
		{"Unicode specials (i.e. replacement char)", []string{"\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"}},
	}
}
