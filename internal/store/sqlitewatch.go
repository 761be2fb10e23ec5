package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"modernc.org/sqlite"
)

// txWatch counts, on the SQLite write connection, the rows changed
// (SQLite's pre-update hook fires once per row inserted, updated or
// deleted, triggers' rows included) and the transactions rolled back. The
// group writer reads it around each write to learn whether a write that
// failed left the transaction as it found it, which spares it a savepoint
// per write. Only the write pool's connections report to it.
type txWatch struct {
	rows, rollbacks atomic.Uint64
}

// errNoHooks means the driver's connection cannot report changes: the
// writer would then not know what a failed write left behind.
var errNoHooks = errors.New("sqlite connection without change hooks")

// snapshot is the counters now, to compare with after a write.
func (w *txWatch) snapshot() [2]uint64 { return [2]uint64{w.rows.Load(), w.rollbacks.Load()} }

// watchedConnector opens SQLite connections that report to watch. It uses
// a driver of its own, so the hooks reach this store's write pool and no
// other pool of the process.
type watchedConnector struct {
	drv *sqlite.Driver
	dsn string
}

func newWatchedConnector(dsn string, watch *txWatch) *watchedConnector {
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		h, ok := c.(sqlite.HookRegisterer)
		if !ok {
			return errNoHooks
		}
		h.RegisterPreUpdateHook(func(sqlite.SQLitePreUpdateData) { watch.rows.Add(1) })
		h.RegisterRollbackHook(func() { watch.rollbacks.Add(1) })
		return nil
	})
	return &watchedConnector{drv: drv, dsn: dsn}
}

func (c *watchedConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

func (c *watchedConnector) Driver() driver.Driver { return c.drv }
