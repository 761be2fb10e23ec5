package broker

import "strings"

// Subject joins tokens under the stream's prefix; callers pass validated
// tokens (no '.', '*', '>' or spaces).
func (b *Broker) Subject(tokens ...string) string {
	if len(tokens) == 0 {
		return b.cfg.Prefix
	}
	return b.cfg.Prefix + "." + strings.Join(tokens, ".")
}

// EventSubject is the subject of a feed record, e.g.
// EventSubject(tenant, "v", vendorID); the stream stores everything under
// Prefix.ev. Tokens may be wildcards when the result is used to Read.
func (b *Broker) EventSubject(tokens ...string) string {
	return b.cfg.Prefix + ".ev." + strings.Join(tokens, ".")
}

// BoardSubject carries best-effort board updates for dispatchers on core
// NATS, never stored, like positions.
func (b *Broker) BoardSubject() string {
	return b.cfg.Prefix + ".board"
}

// LocationSubject carries best-effort driver positions on core NATS; it is
// outside the stream's subjects so positions are never stored.
func (b *Broker) LocationSubject() string {
	return b.cfg.Prefix + ".loc"
}

// minimalFilters drops duplicates and every subject another one in the list
// already matches: JetStream rejects a consumer whose filters overlap that
// way. Partial overlaps (a.*.c and a.b.*) are allowed by the server and kept.
func minimalFilters(subjects []string) []string {
	out := make([]string, 0, len(subjects))
	for i, s := range subjects {
		covered := false
		for j, o := range subjects {
			if i == j {
				continue
			}
			// Of two equal subjects keep the first.
			if s == o && j < i || s != o && subjectCovers(o, s) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out
}

// subjectCovers reports whether every subject matched by pattern sub is
// also matched by pattern super.
func subjectCovers(super, sub string) bool {
	p := strings.Split(super, ".")
	q := strings.Split(sub, ".")
	for i, t := range p {
		if t == ">" {
			return len(q) > i
		}
		if i >= len(q) || q[i] == ">" {
			return false
		}
		if t != "*" && t != q[i] {
			return false
		}
	}
	return len(p) == len(q)
}
