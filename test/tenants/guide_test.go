//go:build unix

package tenants

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

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// shBlocks returns the ```sh blocks of a markdown text, in order.
func shBlocks(md string) ([]string, error) {
	var out []string
	rest := md
	for {
		_, after, ok := strings.Cut(rest, "\n```sh\n")
		if !ok {
			break
		}
		block, tail, ok := strings.Cut(after, "\n```\n")
		if !ok {
			return nil, errors.New("an unterminated sh block")
		}
		out = append(out, block)
		rest = tail
	}
	if len(out) == 0 {
		return nil, errors.New("no sh blocks")
	}
	return out, nil
}

// TestOperatorGuide runs the sh blocks of docs/TENANTS.md, verbatim and in
// order, in one bash with `set -euo pipefail`, against a fresh server
// started as the guide says, with the binary on PATH as dispatchd.
func TestOperatorGuide(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the guide needs %s (.ci/run installs it)", tool)
		}
	}
	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "TENANTS.md"))
	require.NoError(t, err)
	blocks, err := shBlocks(string(md))
	require.NoError(t, err)

	secret, admin, dataDir := testproc.RandomHex(t, 32), testproc.RandomHex(t, 32), t.TempDir()
	env := []string{"DISPATCH_JWT_SECRET=" + secret, "DISPATCH_ADMIN_TOKEN=" + admin, "DISPATCH_DATA_DIR=" + dataDir}
	srv := testproc.StartWith(t, bin, testproc.Options{Name: "dispatchd", Env: append(env, "DISPATCH_LOG_LEVEL=warn")})

	binDir := t.TempDir()
	require.NoError(t, os.Symlink(bin, filepath.Join(binDir, "dispatchd")))
	script := "set -euo pipefail\n" + strings.Join(blocks, "\n") + "\n"
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(os.Environ(), append(env, "DISPATCH_URL="+srv.URL, "PATH="+binDir+":"+os.Getenv("PATH"))...)
	out, err := cmd.CombinedOutput()
	t.Logf("the guide's %d blocks:\n%s", len(blocks), out)
	require.NoError(t, err, "a command of docs/TENANTS.md failed")
	require.Contains(t, string(out), `"id":"acme"`, "step 1 printed the tenant")
	require.Contains(t, string(out), `"url":"https://hooks.shop-1.invalid/dispatchd"`, "step 5 listed the webhook")
	require.Contains(t, string(out), `"id": "globex"`, "step 6 listed the CLI's tenant")
}
