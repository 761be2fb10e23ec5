package deploy

import (
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// directive is one nginx directive with its block, if it has one.
type directive struct {
	name  string
	args  []string
	block []*directive
}

// parseNginx reads an nginx config into a tree: words, quoted strings,
// `;`, `{`, `}` and # comments, which is all nginx.conf syntax there is
// apart from includes (not used here).
func parseNginx(t testing.TB, path string) []*directive {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	toks := tokenizeNginx(t, string(src))
	root := &directive{}
	stack := []*directive{root}
	var words []string
	for _, tok := range toks {
		top := stack[len(stack)-1]
		switch tok {
		case ";":
			require.NotEmpty(t, words, "empty directive in %s", path)
			top.block = append(top.block, &directive{name: words[0], args: words[1:]})
			words = nil
		case "{":
			require.NotEmpty(t, words, "block without a name in %s", path)
			d := &directive{name: words[0], args: words[1:]}
			top.block = append(top.block, d)
			stack = append(stack, d)
			words = nil
		case "}":
			require.Empty(t, words, "missing ; before } in %s", path)
			require.Greater(t, len(stack), 1, "unbalanced } in %s", path)
			stack = stack[:len(stack)-1]
		default:
			words = append(words, tok)
		}
	}
	require.Len(t, stack, 1, "unclosed block in %s", path)
	require.Empty(t, words, "trailing directive without ; in %s", path)
	return root.block
}

func tokenizeNginx(t testing.TB, s string) []string {
	t.Helper()
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == ';' || c == '{' || c == '}':
			toks = append(toks, string(c))
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(s[i+1:], c)
			require.GreaterOrEqual(t, end, 0, "unterminated quote")
			toks = append(toks, s[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune(";{}", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

// find returns the directives named name directly in ds.
func find(ds []*directive, name string) []*directive {
	var out []*directive
	for _, d := range ds {
		if d.name == name {
			out = append(out, d)
		}
	}
	return out
}

// one returns the single directive named name in ds.
func one(t testing.TB, ds []*directive, name string) *directive {
	t.Helper()
	found := find(ds, name)
	require.Len(t, found, 1, "want one %s", name)
	return found[0]
}

// location returns the location block of server for path, exact (`=`)
// or prefix.
func location(server *directive, path string) *directive {
	for _, l := range find(server.block, "location") {
		if len(l.args) > 0 && l.args[len(l.args)-1] == path {
			return l
		}
	}
	return nil
}

// headers returns the proxy_set_header values in force in loc: nginx
// inherits the server's only when the location sets none.
func headers(server, loc *directive) map[string]string {
	set := find(loc.block, "proxy_set_header")
	if len(set) == 0 {
		set = find(server.block, "proxy_set_header")
	}
	h := map[string]string{}
	for _, d := range set {
		if len(d.args) == 2 {
			h[strings.ToLower(d.args[0])] = d.args[1]
		}
	}
	return h
}

// inherited returns the arguments of name in loc, else in server.
func inherited(server, loc *directive, name string) []string {
	for _, scope := range []*directive{loc, server} {
		if d := find(scope.block, name); len(d) > 0 {
			return d[len(d)-1].args
		}
	}
	return nil
}
