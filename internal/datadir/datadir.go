package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the lock's name inside the data directory.
const LockFile = "LOCK"

// ErrInUse is what a LockedError matches with errors.Is.
var ErrInUse = errors.New("data dir in use")

// LockedError reports a data directory another process holds.
type LockedError struct {
	Dir string
	PID int // 0 when the holder wrote none yet
}

func (e *LockedError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return fmt.Sprintf("data dir %s is in use by %s: one data dir serves one dispatchd; stop it or give this one another data_dir", e.Dir, holder)
}

// Is lets errors.Is(err, ErrInUse) match.
func (e *LockedError) Is(target error) bool { return target == ErrInUse }

// Lock is a held data directory.
type Lock struct {
	f *os.File // the open LOCK file; nil once unlocked
}

// Acquire creates dir if needed and locks it, or returns a *LockedError
// at once if another holder has it.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open data dir lock: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !held {
		pid := readPID(f)
		_ = f.Close()
		abs, aerr := filepath.Abs(dir)
		if aerr != nil {
			abs = dir
		}
		return nil, &LockedError{Dir: abs, PID: pid}
	}
	// The pid is for the message above only; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the directory; it is safe to call more than once. The
// file stays: removing it would let a process that opened it a moment
// before lock a file nobody else can see.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	_ = f.Truncate(0)
	return f.Close() // closing the last descriptor drops the flock
}

func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
