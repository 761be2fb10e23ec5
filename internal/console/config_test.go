package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		url, err string
	}{
		{DefaultTileURL, ""},
		{"none", ""},
		{"", ""},
		{"https://{s}.tiles.example/{z}/{x}/{y}@2x.png", ""},
		{"ftp://tiles.example/{z}/{x}/{y}.png", "want an http(s) URL"},
		{"https:///{z}/{x}/{y}.png", "want an http(s) URL"},
		{"https://tiles.example/{z}/{x}.png", "missing {y}"},
	} {
		err := Config{TileURL: tc.url}.Validate()
		if tc.err == "" {
			require.NoError(t, err, tc.url)
		} else {
			require.ErrorContains(t, err, tc.err, tc.url)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want pageConfig
	}{
		{DefaultConfig(), pageConfig{DefaultTileURL, DefaultTileAttribution}},
		{Config{TileURL: "none", TileAttribution: "x"}, pageConfig{}},
	} {
		rec := httptest.NewRecorder()
		http.StripPrefix("/console/", Handler(tc.cfg)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/config.json", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		var got pageConfig
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		require.Equal(t, tc.want, got)
	}
	// The static files are still served beside it.
	rec := httptest.NewRecorder()
	http.StripPrefix("/console/", Handler(DefaultConfig())).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/vendor/leaflet/leaflet.js", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "Leaflet")
}

// TestBoardHeaders: the board's page, and every other console answer
// (directory listings are HTML too), carries the CSP the tracking page has.
func TestBoardHeaders(t *testing.T) {
	h := http.StripPrefix("/console/", Handler(DefaultConfig()))
	for _, tc := range []struct {
		path string
		csp  bool
	}{{"/console/", true}, {"/console/index.html", true}, {"/console/app.js", true}, {"/console/shared/", true}, {"/console/config.json", false}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), tc.path)
		if tc.csp {
			require.Equal(t, pageCSP(DefaultTileURL), rec.Header().Get("Content-Security-Policy"), tc.path)
			require.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'self'")
		} else {
			require.Empty(t, rec.Header().Get("Content-Security-Policy"), tc.path)
		}
	}
}
