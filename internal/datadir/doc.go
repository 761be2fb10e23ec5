// Package datadir keeps a second process off a data directory in use.
//
// Two servers on one data directory would run two embedded JetStreams on
// one file store (each rebuilding the other's state, their clients
// missing events) and two SQLite writers. Lock takes an exclusive flock
// on <dir>/LOCK, held until Unlock or the process ends (the kernel drops
// it even on SIGKILL, so a crash leaves no stale lock), and writes the
// holder's pid into it for the error the next process gets. flock is per
// open file description: a second Lock in the same process conflicts too.
// On systems without flock (Windows) Lock holds nothing.
package datadir
