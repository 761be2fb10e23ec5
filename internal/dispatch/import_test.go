package dispatch

import (
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDependencyRule: dispatch uses delivery, orders, geo, auth, its
// deadline runner and the public API of transport, and no other package of this module (doc.go states
// the rule): storage and the broker are reached through interfaces.
func TestDependencyRule(t *testing.T) {
	const module = "github.com/dispatchd/dispatchd/"
	allowed := map[string]bool{
		module + "internal/delivery":  true,
		module + "internal/orders":    true,
		module + "internal/geo":       true,
		module + "internal/auth":      true,
		module + "internal/transport": true,
		// its own deadline runner, which knows nothing of dispatch
		module + "internal/dispatch/deadline": true,
		"go.uber.org/zap":                     true,
		"golang.org/x/time/rate":              true,
		"github.com/google/uuid":              true,
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := gotoken.NewFileSet()
	seen := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			seen++
			stdlib := !strings.Contains(strings.Split(path, "/")[0], ".")
			assert.True(t, stdlib || allowed[path], "%s imports %s", name, path)
		}
	}
	require.NotZero(t, seen)
}
