package broker

import (
	"net/url"
	"path/filepath"
	"strings"
)

// Describe names the NATS mode for an operator's start-up line: embedded
// with its JetStream store dir, or the external URLs without credentials.
func (c Config) Describe() string {
	if c.URL == "" {
		dir := filepath.Join(c.DataDir, "nats")
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		return "embedded " + dir
	}
	parts := strings.Split(c.URL, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(unparsable URL)"
			continue
		}
		// A user, password or token in the URL stays out of the log.
		u.User = nil
		parts[i] = u.Redacted()
	}
	return "external " + strings.Join(parts, ",")
}
