// Package strategies runs each dispatch strategy (CONTRACT.md v2,
// "Dispatch strategies") end to end through the real dispatchd binary:
// 50 drivers on duty at known positions north of a pickup, Go Socket.IO
// clients for the vendor, the drivers and a dispatcher, and a fresh
// server per test on SQLite, and on PostgreSQL too when
// DISPATCH_TEST_DATABASE_URL is set. Its benchmark measures the dispatch
// overhead per order of each strategy at 200 on-duty drivers.
//
// It holds tests only; nothing imports it.
package strategies
