package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRootAndFavicon: the server's address leads a person to the console
// (it answered a JSON 404 before), and the icon browsers ask for exists.
func TestRootAndFavicon(t *testing.T) {
	s := start(t, map[string]string{"DISPATCH_JWT_SECRET": "a-secret-of-at-least-32-bytes!!!"}, "serve", "--addr", "127.0.0.1:0")
	base := "http://" + s.addr
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/": "/console/", "/favicon.ico": "/console/favicon.svg"} {
		res, err := noFollow.Get(base + path)
		require.NoError(t, err)
		res.Body.Close()
		assert.Contains(t, []int{http.StatusFound, http.StatusMovedPermanently}, res.StatusCode, path)
		assert.Equal(t, want, res.Header.Get("Location"), path)
	}
	res, err := http.Get(base + "/favicon.ico")
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "image/svg+xml", strings.Split(res.Header.Get("Content-Type"), ";")[0])
	assert.Contains(t, string(body), "<svg")
	page, err := http.Get(base + "/")
	require.NoError(t, err)
	defer page.Body.Close()
	html, err := io.ReadAll(page.Body)
	require.NoError(t, err)
	assert.Contains(t, string(html), `rel="icon" href="favicon.svg"`, "the console names its icon")
}

// TestTrackPageRoute: /track/<token> is the tracking page, for any token
// (an unknown one learns it from the JSON, which says 404 under its
// rate limit), with the headers of a page holding a secret in its URL;
// the files it names are served where its relative links lead.
func TestTrackPageRoute(t *testing.T) {
	s := start(t, map[string]string{"DISPATCH_JWT_SECRET": "a-secret-of-at-least-32-bytes!!!", "DISPATCH_TILE_URL": "https://{s}.tiles.example/{z}/{x}/{y}.png"}, "serve", "--addr", "127.0.0.1:0")
	base := "http://" + s.addr
	unknown := strings.Repeat("A", 24)
	res, err := http.Get(base + "/track/" + unknown)
	require.NoError(t, err)
	html, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "img-src 'self' https://*.tiles.example;")
	assert.Contains(t, string(html), `id="not-found"`)

	res, err = http.Get(base + "/api/v1/track/" + unknown)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "the JSON tells the page")

	for path, typ := range map[string]string{
		"/console/track/track.js":            "text/javascript",
		"/console/track/view.js":             "text/javascript",
		"/console/track/track.css":           "text/css",
		"/console/shared/map.js":             "text/javascript",
		"/console/vendor/leaflet/leaflet.js": "text/javascript",
		"/track/":                            "",
		"/track/a/b":                         "",
	} {
		res, err := http.Get(base + path)
		require.NoError(t, err)
		res.Body.Close()
		if typ == "" {
			assert.Equal(t, http.StatusNotFound, res.StatusCode, path)
			continue
		}
		assert.Equal(t, http.StatusOK, res.StatusCode, path)
		assert.Equal(t, typ, strings.Split(res.Header.Get("Content-Type"), ";")[0], path)
	}
}
