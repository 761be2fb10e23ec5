package engineio

import "encoding/binary"

// utf8Stream validates UTF-8 (RFC 3629, as RFC 6455 §8.1 requires of text
// messages) fed in pieces that may split a character, so that a text
// message is refused at its first bad byte rather than once complete.
type utf8Stream struct {
	need   uint8 // continuation bytes the current character still needs
	lo, hi byte  // range of the next continuation byte
}

// feed checks the next bytes of the text; false means they cannot be UTF-8
// whatever follows.
func (s *utf8Stream) feed(b []byte) bool {
	for i := 0; i < len(b); {
		if s.need == 0 {
			// ASCII runs, eight bytes at a time.
			for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 == 0 {
				i += 8
			}
			if i == len(b) {
				break
			}
			c := b[i]
			i++
			if c < 0x80 {
				continue
			}
			if !s.lead(c) {
				return false
			}
			continue
		}
		c := b[i]
		i++
		if c < s.lo || c > s.hi {
			return false
		}
		s.need--
		s.lo, s.hi = 0x80, 0xbf
	}
	return true
}

// lead starts a multi-byte character. The first continuation byte's range
// excludes overlong forms, surrogates (U+D800–U+DFFF) and code points
// above U+10FFFF (RFC 3629 §4).
func (s *utf8Stream) lead(c byte) bool {
	s.lo, s.hi = 0x80, 0xbf
	switch {
	case c >= 0xc2 && c <= 0xdf:
		s.need = 1
	case c == 0xe0:
		s.need, s.lo = 2, 0xa0
	case c == 0xed:
		s.need, s.hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		s.need = 2
	case c == 0xf0:
		s.need, s.lo = 3, 0x90
	case c >= 0xf1 && c <= 0xf3:
		s.need = 3
	case c == 0xf4:
		s.need, s.hi = 3, 0x8f
	default: // continuation byte, C0/C1 overlong leads, F5–FF
		return false
	}
	return true
}

// complete reports whether the text fed so far ends on a character
// boundary.
func (s *utf8Stream) complete() bool { return s.need == 0 }
