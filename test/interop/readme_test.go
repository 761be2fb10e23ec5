//go:build unix

package interop

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// exampleTimeout bounds the README example: one order, start to end.
const exampleTimeout = 30 * time.Second

// TestReadmeExample runs the README's "Try it" client exactly as printed
// against a fresh dispatchd process, with tokens minted as the README
// says; it must end by itself (the vendor's thank-you) with exit code 0.
func TestReadmeExample(t *testing.T) {
	node := requireNode(t)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	code, err := tryItBlock(string(readme))
	require.NoError(t, err)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "example.mjs"), []byte(code), 0o600))
	modules, err := filepath.Abs("node_modules")
	require.NoError(t, err)
	require.NoError(t, os.Symlink(modules, filepath.Join(dir, "node_modules")))

	bin := testproc.BuildT(t)
	secret := testproc.RandomHex(t, 32)
	srv := testproc.Start(t, bin, "DISPATCH_JWT_SECRET="+secret, "DISPATCH_DATA_DIR="+t.TempDir(), "DISPATCH_LOG_LEVEL=warn")
	env := []string{"URL=" + srv.URL}
	for _, u := range []struct{ name, role, sub string }{
		{"VENDOR", string(orders.RoleVendor), "v1"},
		{"DRIVER", string(orders.RoleDriver), "d1"},
		{"CUSTOMER", string(orders.RoleCustomer), "c1"},
	} {
		env = append(env, u.name+"="+testproc.MintToken(t, bin, secret, "acme", u.role, u.sub))
	}

	ctx, cancel := context.WithTimeout(t.Context(), exampleTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "example.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("node example.mjs:\n%s", out)
	require.NoError(t, ctx.Err(), "the example did not finish within %s", exampleTimeout)
	require.NoError(t, err)
	require.Contains(t, string(out), "customer sees: delivered")
	require.Contains(t, string(out), "vendor thanked:")
}

// tryItBlock returns the first ```js block after the "## Try it" heading.
func tryItBlock(readme string) (string, error) {
	_, rest, ok := strings.Cut(readme, "\n## Try it\n")
	if !ok {
		return "", errors.New(`README.md has no "## Try it" section`)
	}
	_, rest, ok = strings.Cut(rest, "\n```js\n")
	if !ok {
		return "", errors.New(`no js block after "## Try it"`)
	}
	code, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		return "", errors.New(`unterminated js block after "## Try it"`)
	}
	return code + "\n", nil
}
