package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Handler serves the console's files and its config.json; mount it under
// /console/ with the prefix stripped.
func Handler(cfg Config) http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	static := http.FileServer(http.FS(sub))
	conf := cfg.handler()
	csp := pageCSP(cfg.TileURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if name == "config.json" {
			conf.ServeHTTP(w, r)
			return
		}
		// The board shows what vendors and drivers typed: should any of
		// it ever reach the page as markup, nothing of it may run, load
		// or frame. On every answer: directory listings are HTML too.
		w.Header().Set("Content-Security-Policy", csp)
		static.ServeHTTP(w, r)
	})
}
