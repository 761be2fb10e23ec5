package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/testproc"
)

// asDispatchd, set to 1, makes this test binary run main() with its
// arguments: the real binary's code, exit status and stderr, no build.
const asDispatchd = "DISPATCHD_TEST_AS_BINARY"

// dispatchdCmd runs this test binary as `dispatchd args...` on dataDir.
func dispatchdCmd(ctx context.Context, dataDir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = testproc.ChildEnv(asDispatchd+"=1", "DISPATCH_DATA_DIR="+dataDir, "DISPATCH_LOG_LEVEL=warn")
	cmd.WaitDelay = waitTimeout
	return cmd
}

// TestDataDirLockedAcrossProcesses runs two server processes on one data
// dir: the second exits at once with an error naming the dir and the
// first one's pid, and the first keeps serving.
func TestDataDirLockedAcrossProcesses(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
	defer cancel()

	first := dispatchdCmd(ctx, dir, "serve", "--addr", "127.0.0.1:0", "--log-level", "info")
	out, err := first.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, first.Start())
	exited := make(chan error, 1)
	go func() {
		// Drain the logs so the server never blocks on its stdout.
		lines := bufio.NewScanner(out)
		listening := false
		for lines.Scan() {
			if !listening && strings.Contains(lines.Text(), `"msg":"listening"`) {
				listening = true
				exited <- nil
			}
		}
		exited <- first.Wait()
	}()
	select {
	case err := <-exited:
		require.NoError(t, err, "first server never listened")
	case <-time.After(2 * waitTimeout):
		require.FailNow(t, "first server did not start")
	}

	begin := time.Now()
	// Bounded: without the lock the second one would serve on.
	sctx, scancel := context.WithTimeout(ctx, waitTimeout)
	defer scancel()
	second := dispatchdCmd(sctx, dir, "serve", "--addr", "127.0.0.1:0")
	msg, err := second.CombinedOutput()
	took := time.Since(begin)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "the second server must fail: %s", msg)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, string(msg), "dispatchd: data dir "+dir+" is in use by another process (pid "+strconv.Itoa(first.Process.Pid)+")")
	assert.Less(t, took, 5*time.Second, "fails at once")
	t.Logf("second process: %s(exit %d after %s)", msg, ee.ExitCode(), took.Round(time.Millisecond))

	// The first is untouched and stops cleanly, releasing the dir.
	require.NoError(t, first.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err)
	case <-time.After(2 * waitTimeout):
		require.FailNow(t, "first server did not stop")
	}
	s := start(t, map[string]string{"DISPATCH_DATA_DIR": dir}, "serve", "--addr", "127.0.0.1:0")
	require.NoError(t, s.stop(t))
}

// TestDataDirLockInProcess: a second serve in the same process on the
// same dir is refused too, and the dir is free again after a stop.
func TestDataDirLockInProcess(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DISPATCH_DATA_DIR": dir}
	s := start(t, env, "serve", "--addr", "127.0.0.1:0")

	var out lockedBuffer
	r := runner{getenv: envMap(env), stdout: &out}
	// Bounded: without the lock the second one would serve on.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err := r.run(ctx, []string{"dispatchd", "serve", "--addr", "127.0.0.1:0"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data dir "+dir+" is in use")

	require.NoError(t, s.stop(t))
	s = start(t, env, "serve", "--addr", "127.0.0.1:0")
	require.NoError(t, s.stop(t))
}

// TestDataDirUnlockedWhenExternal: with NATS and the database both
// external the data dir is not used, so it is not locked.
func TestDataDirUnlockedWhenExternal(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.NATS.URL = "nats://127.0.0.1:4222"
	cfg.Store.DatabaseURL = "postgres://u@127.0.0.1/db"
	l, err := cfg.lockDataDir()
	require.NoError(t, err)
	assert.Nil(t, l)
	require.NoError(t, l.Unlock())

	for _, tc := range []struct{ nats, db string }{{"", cfg.Store.DatabaseURL}, {cfg.NATS.URL, ""}} {
		c := cfg
		c.NATS.URL, c.Store.DatabaseURL = tc.nats, tc.db
		l, err := c.lockDataDir()
		require.NoError(t, err)
		require.NotNil(t, l)
		require.NoError(t, l.Unlock())
	}
}
