package delivery

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDependencyRule: delivery imports the standard library and zap, and
// nothing of this module (doc.go states the rule).
func TestDependencyRule(t *testing.T) {
	for path, file := range productionImports(t) {
		switch {
		case !strings.Contains(strings.Split(path, "/")[0], "."): // the standard library
		case path == "go.uber.org/zap":
		default:
			assert.Fail(t, "forbidden import", "%s imports %s", file, path)
		}
	}
}

// productionImports maps every import of the package's non-test files to
// one file importing it.
func productionImports(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			out[path] = name
		}
	}
	require.NotEmpty(t, out)
	return out
}
