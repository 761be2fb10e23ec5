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
