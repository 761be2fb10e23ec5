package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrackPage: the page answers any token with the same HTML and the
// headers a public page holding a secret in its URL needs.
func TestTrackPage(t *testing.T) {
	h := TrackPage(DefaultConfig())
	var first string
	for _, path := range []string{"/track/AAAAAAAAAAAAAAAAAAAAAAAA", "/track/unknown-or-junk"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			require.Equal(t, http.StatusOK, rec.Code, "%s %s", method, path)
			hd := rec.Header()
			assert.Equal(t, "text/html; charset=utf-8", hd.Get("Content-Type"))
			assert.Equal(t, "no-cache", hd.Get("Cache-Control"))
			assert.Equal(t, "no-referrer", hd.Get("Referrer-Policy"))
			assert.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"))
			csp := hd.Get("Content-Security-Policy")
			assert.Contains(t, csp, "frame-ancestors 'none'")
			assert.Contains(t, csp, "img-src 'self' https://tile.openstreetmap.org;")
			if method == http.MethodHead {
				assert.Empty(t, rec.Body.String())
				continue
			}
			if first == "" {
				first = rec.Body.String()
			}
			assert.Equal(t, first, rec.Body.String(), "one page for every token")
			assert.NotContains(t, rec.Body.String(), "AAAAAAAAAAAAAAAAAAAAAAAA", "the token is never written into the page")
		}
	}
}

// TestTrackPageFitsItsCSP: the page has no inline script or style (its
// CSP would block them) and every file it names, resolved from
// /track/<token> as a browser does, is in the embedded tree.
func TestTrackPageFitsItsCSP(t *testing.T) {
	page := string(trackHTML)
	assert.NotRegexp(t, `<script(\s[^>]*)?>\s*[^<\s]`, page, "inline script")
	assert.NotContains(t, page, "<style")
	assert.NotRegexp(t, `\sstyle=`, page)
	assert.NotRegexp(t, `\son[a-z]+=`, page, "inline handler")

	base, err := url.Parse("https://track.example/prefix/track/tok")
	require.NoError(t, err)
	static, err := fs.Sub(files, "static")
	require.NoError(t, err)
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.GreaterOrEqual(t, len(refs), 5)
	for _, m := range refs {
		u, err := base.Parse(m[1])
		require.NoError(t, err)
		name, ok := strings.CutPrefix(u.Path, "/prefix/console/")
		require.True(t, ok, "%s resolves to %s, outside /console/ under the prefix", m[1], u.Path)
		_, err = fs.Stat(static, name)
		assert.NoError(t, err, m[1])
	}
}

// TestTrackPageHooks: the elements and data attributes the browser tests
// find the page by are there.
func TestTrackPageHooks(t *testing.T) {
	for _, id := range []string{"status", "timeline", "eta", "map", "pin-required", "pin", "not-found", "conn"} {
		assert.Contains(t, string(trackHTML), `id="`+id+`"`)
	}
	assert.Contains(t, string(trackHTML), `id="conn" data-state="live"`)
	view, err := files.ReadFile("static/track/view.js")
	require.NoError(t, err)
	for _, hook := range []string{"el.dataset.status = t.status", "li.dataset.status = s.status", "dataset.courierLat", "dataset.courierLng", "el.dataset.seconds = String(left)", "delete el.dataset.seconds"} {
		assert.Contains(t, string(view), hook)
	}
	js, err := files.ReadFile("static/track/track.js")
	require.NoError(t, err)
	for _, hook := range []string{`setConn("live"`, `setConn("retrying"`, "If-None-Match", "Retry-After", "visibilityState"} {
		assert.Contains(t, string(js), hook)
	}
}

// TestTrackPageDepth: only /track/<one segment> is the page.
func TestTrackPageDepth(t *testing.T) {
	for _, p := range []string{"/track/", "/track/a/b", "/track/tok/", "/tracker/tok"} {
		rec := httptest.NewRecorder()
		TrackPage(DefaultConfig()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		assert.Equal(t, http.StatusNotFound, rec.Code, p)
	}
}

func TestTrackCSPImages(t *testing.T) {
	for _, tc := range []struct{ tile, img string }{
		{DefaultTileURL, "'self' https://tile.openstreetmap.org"},
		{"https://{s}.tiles.example:8443/{z}/{x}/{y}@2x.png", "'self' https://*.tiles.example:8443"},
		{"http://tiles.local/osm/{z}/{x}/{y}.png", "'self' http://tiles.local"},
		{"https://tile-{s}.example/{z}/{x}/{y}.png", "'self' https:"},
		{"none", "'self'"},
		{"", "'self'"},
	} {
		csp := pageCSP(tc.tile)
		assert.Contains(t, csp, "; img-src "+tc.img+"; ", tc.tile)
		assert.Contains(t, csp, "default-src 'none'")
		assert.Contains(t, csp, "connect-src 'self'")
	}
}
