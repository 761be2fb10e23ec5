package store

import (
	"net/url"
	"path/filepath"
	"strings"
)

// Describe names the database for an operator's start-up line: the SQLite
// file, or the PostgreSQL host and database, never the user or password.
func (c Config) Describe() string {
	if c.DatabaseURL == "" {
		dir := c.DataDir
		if dir == "" {
			dir = DefaultConfig().DataDir
		}
		path := filepath.Join(dir, sqliteFile)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return "sqlite " + path
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil || u.Host == "" {
		return "postgres (unparsable URL)"
	}
	return "postgres " + u.Host + "/" + strings.TrimPrefix(u.Path, "/")
}
