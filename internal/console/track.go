package console

import (
	_ "embed"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// trackHTML is the customer tracking page (its script and style are in
// static/track/, served under /console/track/). Kept out of static/ so
// that /console/track/ does not serve it at a path its relative links
// do not fit.
//
//go:embed track.html
var trackHTML []byte

// TrackPage serves the customer tracking page; mount it at
// GET /track/:token. The page is the same for every token: its script
// reads the token from the path and asks GET /api/v1/track/<token>,
// which is rate limited and says 404 to an unknown link. The page itself
// answers 200 to any token, so that it is no unlimited oracle of which
// tokens exist.
func TrackPage(cfg Config) http.Handler {
	csp := pageCSP(cfg.TileURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One segment after /track/ only: deeper, the page's relative
		// links would lead nowhere.
		if dir, tok := path.Split(r.URL.Path); tok == "" || !strings.HasSuffix(dir, "/track/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		// The token is in the URL: no Referer to tiles or anywhere else.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Robots-Tag", "noindex")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(trackHTML)
		}
	})
}

// pageCSP allows a page's own scripts, styles, JSON and sockets, and
// images from itself and the tile server only; nobody may frame it. The
// board and the tracking page share it.
func pageCSP(tileURL string) string {
	img := "'self'"
	if src := tileSource(tileURL); src != "" {
		img += " " + src
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src " + img,
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

var placeholder = regexp.MustCompile(`\{[^}]*\}`)

// tileSource is the CSP source of a tile template: its scheme and host,
// a {s} subdomain as a wildcard ("https://*.tile.example"); "" for none.
func tileSource(tileURL string) string {
	if tileURL == "" || tileURL == "none" {
		return ""
	}
	u, err := url.Parse(placeholder.ReplaceAllString(tileURL, "x"))
	if err != nil || u.Host == "" {
		return ""
	}
	rest := strings.TrimPrefix(tileURL, u.Scheme+"://")
	host, _, _ := strings.Cut(rest, "/")
	host = placeholder.ReplaceAllString(host, "*")
	if strings.ContainsAny(host, " ;,'") {
		return ""
	}
	if w := strings.Count(host, "*"); w > 1 || (w == 1 && !strings.HasPrefix(host, "*.")) {
		// CSP takes a wildcard only as the leftmost label: fall back
		// to the scheme (any host), broader but working.
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + host
}
