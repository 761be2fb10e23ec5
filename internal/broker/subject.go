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

// LocationSubject carries best-effort driver positions on core NATS; it is
// outside the stream's subjects so positions are never stored.
func (b *Broker) LocationSubject() string {
	return b.cfg.Prefix + ".loc"
}
