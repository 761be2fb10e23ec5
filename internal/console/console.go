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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimPrefix(r.URL.Path, "/") == "config.json" {
			conf.ServeHTTP(w, r)
			return
		}
		static.ServeHTTP(w, r)
	})
}
