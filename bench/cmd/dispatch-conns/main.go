// Command dispatch-conns measures a server's memory per idle Socket.IO
// connection: it opens N WebSocket clients that join a namespace and answer
// heartbeats, holds them, and reports the server's resident memory (read
// from /proc/PID/status) before and after, per connection.
//
// It is a load tool for loopback only: it refuses targets that are not on
// this machine.
//
//	ulimit -n 30000   # the tool holds one fd per client
//	dispatch-conns -url http://127.0.0.1:8080 -pid $(pgrep -n dispatchd) -n 10000
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dispatch-conns:", err)
		os.Exit(1)
	}
}
