package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DefaultTileURL is OpenStreetMap's standard tile server, whose usage
// policy asks for the attribution below and a modest request rate: fine
// for a board and tracking pages, not for bulk use.
const (
	DefaultTileURL         = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
	DefaultTileAttribution = `&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors`
)

// Config is what the pages' maps are drawn on.
type Config struct {
	// TileURL is a raster tile template ({z}/{x}/{y}, optionally {s});
	// "none" draws positions on a plain background (air-gapped sites,
	// tests). Env DISPATCH_TILE_URL.
	TileURL string `yaml:"tile_url"`
	// TileAttribution is shown on every map (HTML; tile providers require
	// it). Env DISPATCH_TILE_ATTRIBUTION.
	TileAttribution string `yaml:"tile_attribution"`
}

// DefaultConfig draws on OpenStreetMap.
func DefaultConfig() Config {
	return Config{TileURL: DefaultTileURL, TileAttribution: DefaultTileAttribution}
}

// Validate refuses a tile URL a browser could not use.
func (c Config) Validate() error {
	if c.TileURL == "" || c.TileURL == "none" {
		return nil
	}
	u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(c.TileURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("tile_url %q: want an http(s) URL template with {z}/{x}/{y}, or none", c.TileURL)
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(c.TileURL, p) {
			return fmt.Errorf("tile_url %q: missing %s", c.TileURL, p)
		}
	}
	return nil
}

// pageConfig is GET /console/config.json: what the pages' scripts read
// before drawing a map. Empty tileUrl: no tiles.
type pageConfig struct {
	TileURL         string `json:"tileUrl"`
	TileAttribution string `json:"tileAttribution"`
}

func (c Config) handler() http.Handler {
	pc := pageConfig(c) // the same fields, with the pages' JSON names
	if pc.TileURL == "none" {
		pc.TileURL, pc.TileAttribution = "", ""
	}
	body, err := json.Marshal(pc)
	if err != nil {
		panic(err) // two strings always encode
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}
