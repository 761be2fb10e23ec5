package deploy

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is the instructions from one FROM up to the next.
type stage struct {
	image, name string
	body        []instruction
}

// parseDockerfile splits a Dockerfile into stages. It knows comments,
// blank lines and backslash continuations, which is all this one uses.
func parseDockerfile(t testing.TB, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()

	var stages []stage
	var pending strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		require.NotEmpty(t, stages, "%s before the first FROM", in.cmd)
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	require.NoError(t, sc.Err())
	return stages
}

// all returns the arguments of every cmd instruction of the stage.
func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// last returns the arguments of the stage's last cmd instruction.
func (s stage) last(cmd string) string {
	all := s.all(cmd)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// env returns the stage's ENV settings (the KEY=VALUE form).
func (s stage) env(t testing.TB) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, kv := range strings.Fields(args) {
			k, v, ok := strings.Cut(kv, "=")
			require.True(t, ok, "ENV %s: use KEY=VALUE", args)
			env[k] = v
		}
	}
	return env
}

// execForm decodes an instruction's JSON exec form, `["/bin", "arg"]`.
func execForm(t testing.TB, args string) []string {
	t.Helper()
	var argv []string
	require.NoError(t, json.Unmarshal([]byte(args), &argv), "want the exec form: %s", args)
	return argv
}

// image is the final stage of the Dockerfile, the one that ships.
func image(t testing.TB) stage {
	t.Helper()
	stages := parseDockerfile(t, repoFile("Dockerfile"))
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage: a build stage and a runtime stage")
	return stages[len(stages)-1]
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, repoFile("Dockerfile"))
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage: a build stage and a runtime stage")
	build, final := stages[0], stages[len(stages)-1]

	t.Run("build stage", func(t *testing.T) {
		assert.True(t, strings.HasPrefix(build.image, "golang:1.26"), "build on Go 1.26: %s", build.image)
		require.NotEmpty(t, build.name, "the build stage is named for COPY --from")
		var goBuild string
		for _, r := range build.all("RUN") {
			if strings.Contains(r, "go build") {
				goBuild = r
			}
		}
		require.NotEmpty(t, goBuild, "a RUN with go build")
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/dispatchd", "-o /out/dispatchd"} {
			assert.Contains(t, goBuild, want)
		}
	})

	t.Run("runtime stage", func(t *testing.T) {
		assert.NotContains(t, final.image, "golang", "the runtime image carries no toolchain")
		copied := false
		for _, c := range final.all("COPY") {
			copied = copied || strings.Contains(c, "--from="+build.name) && strings.HasSuffix(c, " /dispatchd")
		}
		assert.True(t, copied, "the binary is copied from the build stage to /dispatchd")

		user := final.last("USER")
		require.NotEmpty(t, user, "a USER in the runtime stage")
		name, _, _ := strings.Cut(user, ":")
		assert.NotContains(t, []string{"root", "0"}, name, "the server runs as a non-root user")

		env := final.env(t)
		names := envNames(t)
		for k := range env {
			assert.Contains(t, names, k, "ENV %s is not a setting dispatchd reads", k)
		}
		dataDir := env["DISPATCH_DATA_DIR"]
		require.NotEmpty(t, dataDir, "ENV DISPATCH_DATA_DIR")
		assert.Contains(t, strings.Fields(final.last("VOLUME")), dataDir, "the data dir is a VOLUME")

		_, port, err := net.SplitHostPort(env["DISPATCH_ADDR"])
		require.NoError(t, err, "ENV DISPATCH_ADDR")
		assert.Equal(t, "8080", port)
		assert.Contains(t, strings.Fields(final.last("EXPOSE")), port, "EXPOSE the port DISPATCH_ADDR listens on")

		hc := final.last("HEALTHCHECK")
		_, probe, ok := strings.Cut(hc, "CMD ")
		require.True(t, ok, "HEALTHCHECK ... CMD [...]: %q", hc)
		assert.Equal(t, []string{"/dispatchd", "health"}, execForm(t, probe),
			"distroless has no shell or curl: the binary probes itself (its default URL follows DISPATCH_ADDR)")
		assert.Equal(t, []string{"/dispatchd"}, execForm(t, final.last("ENTRYPOINT")))
		assert.Equal(t, []string{"serve"}, execForm(t, final.last("CMD")))
	})
}

// TestDockerignore keeps local state, history and binaries out of the
// build context, and the sources in.
func TestDockerignore(t *testing.T) {
	body, err := os.ReadFile(repoFile(".dockerignore"))
	require.NoError(t, err)
	var patterns []string
	for _, l := range strings.Split(string(body), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, want := range []string{".git", "data/", "**/node_modules/", "**/*.test"} {
		assert.Contains(t, patterns, want)
	}
	for _, p := range patterns {
		for _, src := range []string{"go.mod", "go.sum", "cmd", "internal", "api", "configs"} {
			ok, err := filepath.Match(strings.TrimSuffix(p, "/"), src)
			require.NoError(t, err)
			assert.False(t, ok, "%s excludes %s, which the build needs", p, src)
		}
	}
}

// TestBuildWithoutCgo builds the binary the way the Dockerfile does, its
// -ldflags included: the module must stay pure Go for the static runtime
// image, and the build args VERSION and REVISION must reach
// `dispatchd version` (the context has no .git to stamp them).
func TestBuildWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary once more")
	}
	build := parseDockerfile(t, repoFile("Dockerfile"))[0]
	var goBuild string
	for _, r := range build.all("RUN") {
		if strings.Contains(r, "go build") {
			goBuild = r
		}
	}
	for _, arg := range []string{"VERSION", "REVISION"} {
		assert.True(t, slices.ContainsFunc(build.all("ARG"), func(a string) bool { return strings.HasPrefix(a, arg) }),
			"ARG %s in the build stage", arg)
	}
	m := regexp.MustCompile(`-ldflags "([^"]*)"`).FindStringSubmatch(goBuild)
	require.Len(t, m, 2, "go build -ldflags \"...\": %s", goBuild)
	ldflags := strings.NewReplacer("${VERSION}", "v9.9.9-test", "${REVISION}", "abc123def4567890abc").Replace(m[1])

	bin := filepath.Join(t.TempDir(), "dispatchd")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/dispatchd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "CGO_ENABLED=0 go build: %s", out)
	out, err = exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.True(t, strings.HasPrefix(string(out), "dispatchd v9.9.9-test abc123def456 "), "version from the build args: %s", out)
}
