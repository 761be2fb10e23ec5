package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// get fetches one file of the console through Handler.
func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+path, nil))
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return rec.Code, string(body)
}

var (
	// Attribute URLs of the page and the relative imports of its modules.
	pageRefs   = regexp.MustCompile(`(?:src|href)="([^"#]+)"`)
	importRefs = regexp.MustCompile(`(?m)^import [^;]*? from "(\./[^"]+)"`)
)

// TestPageLoadsOnlyEmbeddedFiles: every script, stylesheet and module the
// board loads is served from the embedded tree (no CDN at run time), and
// each module's relative imports resolve too.
func TestPageLoadsOnlyEmbeddedFiles(t *testing.T) {
	h := Handler(DefaultConfig())
	code, page := get(t, h, "")
	require.Equal(t, http.StatusOK, code)
	queue := []string{}
	for _, m := range pageRefs.FindAllStringSubmatch(page, -1) {
		require.NotRegexp(t, `^(https?:)?//`, m[1], "loaded from elsewhere")
		queue = append(queue, m[1])
	}
	require.Contains(t, queue, "app.js")
	seen := map[string]bool{}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if seen[f] {
			continue
		}
		seen[f] = true
		code, body := get(t, h, f)
		require.Equal(t, http.StatusOK, code, f)
		if strings.HasSuffix(f, ".js") && !strings.HasPrefix(f, "vendor/") {
			dir := f[:strings.LastIndex(f, "/")+1]
			for _, m := range importRefs.FindAllStringSubmatch(body, -1) {
				queue = append(queue, dir+strings.TrimPrefix(m[1], "./"))
			}
		}
	}
	for _, f := range []string{"board.js", "view.js", "detail.js", "developer.js", "shared/map.js"} {
		require.True(t, seen[f], "%s is reached from the page", f)
	}
}

// TestPageKeepsTheBrowserTestsHooks: the ids the browser tests and the
// brief's contract rely on are in the page, and the token fields are
// password fields (a token is never shown in clear).
func TestPageKeepsTheBrowserTestsHooks(t *testing.T) {
	code, page := get(t, Handler(DefaultConfig()), "")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`role="tablist"`, `id="tab-board"`, `id="tab-developer"`, `id="conn" data-state=`, `id="orders"`,
		`id="drivers"`, `id="map"`, `id="stats"`, `<dialog id="order-detail"`, `<select id="assign-driver">`,
		`data-action="assign"`, `data-action="unassign"`, `data-action="cancel"`, `id="sign-out"`,
	} {
		require.Contains(t, page, want)
	}
	inputs := regexp.MustCompile(`<input id="(login-token-input|login-key-input|dev-token)" type="(\w+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, inputs, 3)
	for _, m := range inputs {
		require.Equal(t, "password", m[2], m[1])
	}
}
