package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clusterTest is what a two-node cluster test starts, read from its
// source: how many processes, and which DISPATCH_* settings they get.
type clusterTest struct {
	starts   int
	settings map[string]bool
}

// readClusterTest finds function fn in file and counts its calls to start
// (a function name or pkg.Func), collecting every "DISPATCH_…" string
// literal in it (a map key, or the name part of "NAME=" + value).
func readClusterTest(t testing.TB, file, fn, start string) clusterTest {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), repoFile(file), nil, 0)
	require.NoError(t, err)
	var body *ast.BlockStmt
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == fn {
			body = fd.Body
		}
	}
	require.NotNil(t, body, "%s in %s", fn, file)

	ct := clusterTest{settings: map[string]bool{}}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if callee(n.Fun) == start {
				ct.starts++
			}
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				break
			}
			s, err := strconv.Unquote(n.Value)
			if err == nil && strings.HasPrefix(s, "DISPATCH_") && !strings.HasPrefix(s, "DISPATCH_TEST_") {
				name, _, _ := strings.Cut(s, "=")
				ct.settings[name] = true
			}
		}
		return true
	})
	return ct
}

// callee names a called function as written: f or pkg.F.
func callee(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	}
	return ""
}

// TestTopologyMatchesClusterTests ties docker-compose.yml to the tests
// that run a cluster as processes: as many nodes, and the settings that
// make them one cluster (the same NATS and the same database) set on
// every node in both.
func TestTopologyMatchesClusterTests(t *testing.T) {
	tests := []clusterTest{
		readClusterTest(t, "cmd/dispatchd/cluster_test.go", "TestClusterTwoNodes", "start"),
		readClusterTest(t, "test/faults/kill_test.go", "TestKillOneOfTwoNodes", "testproc.StartWith"),
	}
	p, err := loadCompose(t, "docker-compose.yml", "DISPATCH_JWT_SECRET="+jwtSecret)
	require.NoError(t, err)
	ns := nodes(p)
	names := envNames(t)

	shared := []string{"DISPATCH_NATS_URL", "DISPATCH_DATABASE_URL"}
	for i, ct := range tests {
		assert.Equal(t, len(ns), ct.starts, "cluster test %d starts as many nodes as compose runs", i)
		for _, s := range shared {
			assert.Contains(t, ct.settings, s, "cluster test %d", i)
		}
		for s := range ct.settings {
			assert.Contains(t, names, s, "cluster test %d sets %s, which dispatchd does not read", i, s)
		}
	}
	for _, n := range ns {
		env := environ(n)
		for _, s := range shared {
			assert.NotEmpty(t, env[s], "%s sets %s", n.Name, s)
		}
	}
	// Every node reaches the same single NATS and PostgreSQL service.
	for _, s := range shared {
		values := map[string]bool{}
		for _, n := range ns {
			values[environ(n)[s]] = true
		}
		assert.Len(t, values, 1, "%s is the same on every node: %v", s, slices.Collect(maps.Keys(values)))
	}
}
