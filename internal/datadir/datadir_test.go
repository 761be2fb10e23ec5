package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecondLockFails: flock is per open file description, so a second
// open and lock in the same process conflicts as another process would.
func TestSecondLockFails(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := filepath.Join(t.TempDir(), "data", "nested") // created by Acquire
	first, err := Acquire(dir)
	require.NoError(t, err)
	pid, err := os.ReadFile(filepath.Join(dir, LockFile))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(pid))

	_, err = Acquire(dir)
	require.ErrorIs(t, err, ErrInUse)
	le, ok := errors.AsType[*LockedError](err)
	require.True(t, ok)
	assert.Equal(t, dir, le.Dir)
	assert.Equal(t, os.Getpid(), le.PID)
	assert.ErrorContains(t, err, "data dir "+dir+" is in use by another process (pid "+strconv.Itoa(os.Getpid())+")")

	require.NoError(t, first.Unlock())
	require.NoError(t, first.Unlock(), "unlock is idempotent")
	again, err := Acquire(dir)
	require.NoError(t, err, "released on unlock")
	require.NoError(t, again.Unlock())
}

// TestLockedWithoutPID: a holder that wrote no pid (yet) is still named.
func TestLockedWithoutPID(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	first, err := Acquire(dir)
	require.NoError(t, err)
	defer first.Unlock()
	require.NoError(t, first.f.Truncate(0))
	_, err = Acquire(dir)
	require.ErrorIs(t, err, ErrInUse)
	assert.ErrorContains(t, err, "is in use by another process:")
}

func TestAcquireUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := Acquire(filepath.Join(file, "data"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrInUse)
}

// TestStaleLockFile: a LOCK file left by a killed process (its pid still
// inside) holds nothing; the kernel dropped the flock with the process.
func TestStaleLockFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, LockFile), []byte("999999\n"), 0o640))
	l, err := Acquire(dir)
	require.NoError(t, err)
	defer l.Unlock()
	pid, err := os.ReadFile(filepath.Join(dir, LockFile))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(pid))
}
