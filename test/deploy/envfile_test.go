package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// readmeLine returns the one line of the README's shell blocks that
// contains marker.
func readmeLine(t testing.TB, marker string) string {
	t.Helper()
	body, err := os.ReadFile(repoFile("README.md"))
	require.NoError(t, err)
	var found []string
	inShell := false
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "```sh"):
			inShell = true
		case strings.HasPrefix(line, "```"):
			inShell = false
		case inShell && strings.Contains(line, marker):
			found = append(found, line)
		}
	}
	require.Len(t, found, 1, "one README shell line with %q", marker)
	return found[0]
}

// readEnvFile parses KEY=VALUE lines as compose reads .env.
func readEnvFile(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	require.NoError(t, sc.Err())
	return env
}

// TestEnvFileAndTokens runs the README's command that makes .env, twice
// (it must make it once and keep it), loads the cluster with that .env as
// compose would, and mints a token with the README's command in a node's
// environment: the token verifies with the secret in .env.
func TestEnvFileAndTokens(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed: the README's .env command needs it")
	}
	makeEnv := readmeLine(t, "> .env")
	dir := t.TempDir()
	runSh := func() {
		t.Helper()
		cmd := exec.Command("bash", "-c", makeEnv)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	runSh()
	path := filepath.Join(dir, ".env")
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), ".env is readable by its owner only")
	runSh()
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(first), string(again), "made once: a second run keeps the secret")

	env := readEnvFile(t, path)
	require.GreaterOrEqual(t, len(env["DISPATCH_JWT_SECRET"]), 32)
	for _, k := range []string{"POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} {
		assert.NotEmpty(t, env[k], k)
	}
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	p, err := loadCompose(t, "docker-compose.yml", kv...)
	require.NoError(t, err, "the cluster starts on this .env alone")

	// The README's mint: `docker compose exec NODE /dispatchd token ...`,
	// run here with the binary in that node's environment.
	line := readmeLine(t, "docker compose exec ")
	_, after, _ := strings.Cut(line, "docker compose exec ")
	fields := strings.Fields(strings.TrimSuffix(after, ")"))
	require.GreaterOrEqual(t, len(fields), 3, line)
	node, args := fields[0], fields[2:]
	require.Equal(t, "/dispatchd", fields[1], "the image's binary")
	svc, ok := p.Services[node]
	require.True(t, ok, "%s is a compose service", node)
	require.Equal(t, "token", args[0])
	var nodeEnv []string
	for k, v := range environ(svc) {
		nodeEnv = append(nodeEnv, k+"="+v)
	}
	out, err := dispatchd(t, nodeEnv, args...)
	require.NoError(t, err, out)
	v, err := auth.NewVerifier(auth.Config{Secret: auth.Secret(env["DISPATCH_JWT_SECRET"])})
	require.NoError(t, err)
	c, err := v.Verify(strings.TrimSpace(out))
	require.NoError(t, err, "the token is signed with the secret in .env")
	assert.Equal(t, orders.RoleVendor, c.Role)
	assert.Equal(t, "acme", c.Tenant)
	assert.WithinDuration(t, time.Now().Add(time.Hour), c.Expires, time.Minute)

	gitignore, err := os.ReadFile(repoFile(".gitignore"))
	require.NoError(t, err)
	assert.Contains(t, strings.Split(string(gitignore), "\n"), "/.env", "git ignores .env")
}
